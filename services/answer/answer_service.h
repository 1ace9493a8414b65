// The gRPC face of the answer service: Ask searches the router for passages, packs them into
// the target model's token budget, streams the prompt with its sources and packing report, and
// then the answer, from the configured LLM or extracted from the passages.
//
// Every call runs under the caller's deadline (or the default timeout): the router search and
// the LLM request share it, and the LLM request is abandoned when the caller goes away.
//
// Thread-safe: calls run concurrently; the service holds no per-call state.
#ifndef QUARRY_SERVICES_ANSWER_ANSWER_SERVICE_H_
#define QUARRY_SERVICES_ANSWER_ANSWER_SERVICE_H_

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "quarry/v1/answer.grpc.pb.h"
#include "quarry/v1/router.grpc.pb.h"
#include "services/answer/answer_metrics.h"
#include "services/answer/chat_completion_client.h"
#include "services/answer/extractive_answerer.h"
#include "services/answer/model_registry.h"
#include "services/answer/prompt_packer.h"
#include "services/answer/prompt_template.h"
#include "services/runtime/api_keys.h"
#include "services/runtime/call_gate.h"

namespace quarry::answer {

struct AnswerOptions {
  // The model of a request that names none; with an LLM configured, the LLM's model.
  std::string default_model = "gpt-4o";
  // The encoding of a model the registry does not know, when the request gives none; empty:
  // such a model is refused.
  std::string unknown_model_encoding;
  // Tokens of the context window kept for the answer when the budget is derived.
  uint32_t reserved_answer_tokens = 1024;
  uint32_t default_k = 20;
  uint32_t max_k = 200;
  size_t max_question_bytes = 16 << 10;
  // Used when the caller sets no deadline.
  std::chrono::milliseconds default_timeout{120000};
  PackingOptions packing;
  size_t extractive_sentences = 3;
  // The router's address, for messages.
  std::string router_address;
  // When set, every call must carry a key of this table whose tenant is the request's
  // principal's. Either way the caller's `authorization` metadata goes on to the router, which
  // checks it again. Null: calls are not checked here.
  std::shared_ptr<const runtime::ApiKeyTable> api_keys;
  AnswerMetrics* metrics = nullptr;  // not owned; null: nothing is recorded
};

class AnswerService final : public v1::Answer::Service {
 public:
  // None of the pointers is owned; all must outlive the service. `llm` may be null: then LLM
  // mode is refused and extractive mode is the default.
  AnswerService(v1::Router::StubInterface* router, ModelRegistry* models,
                const PromptTemplate* prompt_template, ChatCompletionClient* llm,
                AnswerOptions options);

  runtime::CallGate& gate() { return gate_; }

  grpc::Status Ask(grpc::ServerContext* context, const v1::AskRequest* request,
                   grpc::ServerWriter<v1::AskResponse>* writer) override;

 private:
  // What one request resolved to before anything is searched.
  struct Plan {
    ModelInfo model;
    size_t budget = 0;  // tokens
    v1::AnswerMode mode = v1::ANSWER_MODE_UNSPECIFIED;
    PackingOptions packing;
  };

  // INVALID_ARGUMENT (or FAILED_PRECONDITION for LLM mode with no LLM) naming the problem.
  absl::StatusOr<Plan> MakePlan(const v1::AskRequest& request);

  // OK when no keys are configured or the call's key acts for the request's tenant.
  absl::Status CheckAccess(const grpc::ServerContext& context, const v1::AskRequest& request) const;

  // The candidates of `request` from the router, best first, asked with the caller's
  // credentials.
  absl::StatusOr<v1::RouterSearchResponse> Search(const grpc::ServerContext& caller,
                                                  const v1::AskRequest& request,
                                                  std::chrono::system_clock::time_point deadline);

  absl::Status Run(grpc::ServerContext& context, const v1::AskRequest& request,
                   grpc::ServerWriter<v1::AskResponse>& writer);

  std::chrono::system_clock::time_point Deadline(const grpc::ServerContext& context) const;

  v1::Router::StubInterface* const router_;
  ModelRegistry* const models_;
  const PromptTemplate* const template_;
  ChatCompletionClient* const llm_;
  const AnswerOptions options_;
  const ExtractiveAnswerer extractive_;
  runtime::CallGate gate_;
};

}  // namespace quarry::answer

#endif  // QUARRY_SERVICES_ANSWER_ANSWER_SERVICE_H_
