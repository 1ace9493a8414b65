// A running answer service: the router channel, model registry, prompt template, optional LLM
// client and the gRPC server around AnswerService, all owned here, so that `quarry answer`
// and any command that runs a whole cluster in one process start it the same way.
//
// Health is NOT_SERVING until the router answers its health check as SERVING, and follows the
// router afterwards (checked every `router_check_interval`).
//
// Its metrics (gRPC server, process, AnswerMetrics) are served over HTTP at /metrics, by
// default on the gRPC port + 1000.
//
// Thread-safe: Shutdown may be called from any thread, once; the destructor shuts down too.
#ifndef QUARRY_SERVICES_ANSWER_ANSWER_SERVER_H_
#define QUARRY_SERVICES_ANSWER_ANSWER_SERVER_H_

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "quarry/v1/router.grpc.pb.h"
#include "services/answer/answer_metrics.h"
#include "services/answer/answer_service.h"
#include "services/answer/chat_completion_client.h"
#include "services/answer/model_registry.h"
#include "services/answer/prompt_template.h"
#include "services/runtime/metrics_endpoint.h"
#include "services/runtime/server.h"
#include "services/runtime/tls.h"

namespace quarry::answer {

struct AnswerServerOptions {
  std::string listen = "127.0.0.1:7301";  // port 0 picks a free one
  std::string router = "127.0.0.1:7300";
  // The OpenAI-compatible endpoint, up to the API version ("http://host:port/v1"); empty: no
  // LLM, answers are extractive.
  std::string llm_url;
  std::string llm_model;  // becomes the default model when set
  std::string llm_api_key;
  // Empty: PromptTemplate::kDefaultInstruction.
  std::string system_instruction;
  // Empty: text::Tokenizer::DefaultDataDir().
  std::string tokenizer_dir;
  // Extra or replacing model rules, on top of ModelRegistry::DefaultRules().
  std::vector<ModelRule> model_rules;
  AnswerOptions service;
  ChatCompletionClient::Options llm;  // base_url and api_key come from the fields above
  std::chrono::milliseconds router_check_interval{500};
  int max_message_bytes = 64 << 20;
  // Serves with it, and calls the router with it; empty: plaintext.
  runtime::TlsConfig tls;
  // Where /metrics is served: "" for the gRPC port + 1000, "off" for nowhere, or host:port.
  std::string metrics_listen;
};

class AnswerServer {
 public:
  // Builds everything and starts serving. INVALID_ARGUMENT for bad options; UNAVAILABLE when
  // the address cannot be bound. The router need not be up yet.
  static absl::StatusOr<std::unique_ptr<AnswerServer>> Start(AnswerServerOptions options);

  ~AnswerServer();
  AnswerServer(const AnswerServer&) = delete;
  AnswerServer& operator=(const AnswerServer&) = delete;

  int port() const { return port_; }
  int metrics_port() const { return metrics_.port(); }
  bool has_llm() const { return llm_ != nullptr; }
  const AnswerServerOptions& options() const { return options_; }

  // Marks the server NOT_SERVING, refuses new calls, waits up to `grace` for calls in flight,
  // then stops. Later calls do nothing.
  void Shutdown(std::chrono::milliseconds grace);

 private:
  explicit AnswerServer(AnswerServerOptions options);

  // Follows the router's health until Shutdown.
  void WatchRouter();

  const AnswerServerOptions options_;
  runtime::MetricsEndpoint metrics_{"answer"};
  AnswerMetrics answer_metrics_{metrics_.registry()};
  std::shared_ptr<grpc::Channel> router_channel_;
  std::unique_ptr<v1::Router::Stub> router_;
  std::unique_ptr<ModelRegistry> models_;
  std::unique_ptr<PromptTemplate> template_;
  std::unique_ptr<ChatCompletionClient> llm_;
  std::unique_ptr<AnswerService> service_;
  runtime::RunningServer server_;
  int port_ = 0;

  absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  bool stopped_ ABSL_GUARDED_BY(mu_) = false;
  std::thread watcher_;
};

}  // namespace quarry::answer

#endif  // QUARRY_SERVICES_ANSWER_ANSWER_SERVER_H_
