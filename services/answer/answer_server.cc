#include "services/answer/answer_server.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "services/runtime/log.h"
#include "services/runtime/server.h"

namespace quarry::answer {

AnswerServer::AnswerServer(AnswerServerOptions options) : options_(std::move(options)) {}

absl::StatusOr<std::unique_ptr<AnswerServer>> AnswerServer::Start(AnswerServerOptions options) {
  if (options.router.empty()) return absl::InvalidArgumentError("the router address is empty");
  if (options.router_check_interval <= std::chrono::milliseconds(0)) {
    return absl::InvalidArgumentError("router_check_interval must be positive");
  }
  if (!options.llm_model.empty()) options.service.default_model = options.llm_model;
  if (options.service.router_address.empty()) options.service.router_address = options.router;
  std::unique_ptr<AnswerServer> server(new AnswerServer(std::move(options)));
  const AnswerServerOptions& o = server->options_;

  server->models_ = std::make_unique<ModelRegistry>(
      o.tokenizer_dir.empty() ? text::Tokenizer::DefaultDataDir() : o.tokenizer_dir);
  for (const ModelRule& rule : o.model_rules) {
    if (absl::Status added = server->models_->AddRule(rule); !added.ok()) return added;
  }
  // The default model must resolve, or every request naming none would fail.
  absl::StatusOr<ModelInfo> default_model =
      server->models_->Resolve(o.service.default_model, o.service.unknown_model_encoding);
  if (!default_model.ok()) {
    return absl::Status(default_model.status().code(),
                        absl::StrCat("default model: ", default_model.status().message()));
  }

  server->template_ = std::make_unique<PromptTemplate>(
      o.system_instruction.empty() ? std::string(PromptTemplate::kDefaultInstruction)
                                   : o.system_instruction);
  if (!o.llm_url.empty()) {
    ChatCompletionClient::Options llm = o.llm;
    llm.base_url = o.llm_url;
    llm.api_key = o.llm_api_key;
    absl::StatusOr<std::unique_ptr<ChatCompletionClient>> client =
        ChatCompletionClient::Create(std::move(llm));
    if (!client.ok()) return client.status();
    server->llm_ = *std::move(client);
  }

  grpc::ChannelArguments arguments;
  arguments.SetMaxReceiveMessageSize(o.max_message_bytes);
  server->router_channel_ = o.tls.CreateChannel(o.router, arguments);
  server->router_ = v1::Router::NewStub(server->router_channel_);
  AnswerOptions service_options = o.service;
  service_options.metrics = &server->answer_metrics_;
  server->service_ =
      std::make_unique<AnswerService>(server->router_.get(), server->models_.get(),
                                      server->template_.get(), server->llm_.get(), service_options);

  runtime::GrpcServerOptions server_options;
  server_options.listen = o.listen;
  server_options.max_receive_message_bytes = o.max_message_bytes;
  server_options.max_send_message_bytes = o.max_message_bytes;
  server_options.credentials = o.tls.ServerCredentials();
  server_options.metrics = &server->metrics_;
  server_options.health_services = {v1::Answer::service_full_name()};
  absl::StatusOr<runtime::RunningServer> running =
      runtime::StartGrpcServer(server_options, {server->service_.get()});
  if (!running.ok()) return running.status();
  server->server_ = *std::move(running);
  server->port_ = server->server_.port;
  absl::Status metrics =
      server->metrics_.ServeBesideGrpc(o.metrics_listen, o.listen, server->port_);
  if (!metrics.ok()) return metrics;
  server->watcher_ = std::thread([raw = server.get()] { raw->WatchRouter(); });
  return server;
}

AnswerServer::~AnswerServer() { Shutdown(std::chrono::milliseconds(0)); }

void AnswerServer::WatchRouter() {
  auto log = runtime::Logger("answer");
  auto health = grpc::health::v1::Health::NewStub(router_channel_);
  bool serving = false;
  absl::MutexLock lock(&mu_);
  while (!stopping_) {
    mu_.Unlock();
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + options_.router_check_interval);
    grpc::health::v1::HealthCheckRequest request;
    grpc::health::v1::HealthCheckResponse response;
    const grpc::Status status = health->Check(&context, request, &response);
    const bool router_up =
        status.ok() && response.status() == grpc::health::v1::HealthCheckResponse::SERVING;
    mu_.Lock();
    if (stopping_) break;
    if (router_up != serving) {
      serving = router_up;
      runtime::SetServing(server_, serving);
      if (serving) {
        log->info("serving: router {} is SERVING", options_.router);
      } else {
        log->warn("not serving: router {} is {}", options_.router,
                  status.ok() ? "NOT_SERVING" : status.error_message());
      }
    }
    mu_.AwaitWithTimeout(absl::Condition(&stopping_),
                         absl::FromChrono(options_.router_check_interval));
  }
}

void AnswerServer::Shutdown(std::chrono::milliseconds grace) {
  {
    absl::MutexLock lock(&mu_);
    if (stopped_) return;
    stopped_ = true;
    stopping_ = true;
  }
  if (watcher_.joinable()) watcher_.join();
  if (server_.server != nullptr) runtime::DrainAndShutdown(server_, service_->gate(), grace);
}

}  // namespace quarry::answer
