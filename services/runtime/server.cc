#include "services/runtime/server.h"

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <signal.h>

#include "absl/strings/str_cat.h"
#include "services/runtime/log.h"

namespace quarry::runtime {

absl::StatusOr<RunningServer> StartGrpcServer(const GrpcServerOptions& options,
                                              const std::vector<grpc::Service*>& services) {
  // The health service is this project's own (see health_service.h), not gRPC's built-in one.
  grpc::EnableDefaultHealthCheckService(false);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();

  RunningServer running;
  running.health = std::make_unique<HealthService>(options.health_services);
  grpc::ServerBuilder builder;
  builder.AddListeningPort(
      options.listen, options.credentials ? options.credentials : grpc::InsecureServerCredentials(),
      &running.port);
  builder.SetMaxReceiveMessageSize(options.max_receive_message_bytes);
  builder.SetMaxSendMessageSize(options.max_send_message_bytes);
  // gRPC binds with SO_REUSEPORT by default, so a second process on the same port would quietly
  // share its connections; a port in use must instead be an error.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  for (grpc::Service* service : services) builder.RegisterService(service);
  builder.RegisterService(running.health.get());
  if (options.metrics != nullptr) {
    std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> creators;
    creators.push_back(options.metrics->GrpcInterceptor());
    builder.experimental().SetInterceptorCreators(std::move(creators));
  }

  for (int i = 0; i < options.completion_queues; ++i) {
    running.queues.push_back(builder.AddCompletionQueue());
  }
  running.server = builder.BuildAndStart();
  if (running.server == nullptr || running.port == 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen on '", options.listen,
                     "': the address is malformed, in use, or not local to this host"));
  }
  return running;
}

void SetServing(RunningServer& server, bool serving) { server.health->SetServing(serving); }

namespace {

sigset_t HandledSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGHUP);
  return set;
}

}  // namespace

void BlockTerminationSignals() {
  sigset_t set = HandledSignals();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

int WaitForSignal() {
  sigset_t set = HandledSignals();
  int signal_number = 0;
  while (sigwait(&set, &signal_number) != 0) {
  }
  return signal_number;
}

void DrainAndShutdown(RunningServer& server, CallGate& gate, std::chrono::milliseconds grace) {
  SetServing(server, false);
  gate.Close();
  if (!gate.WaitIdle(grace)) {
    Logger("server")->warn("calls still running after the {}ms grace period are cancelled",
                           grace.count());
  }
  server.server->Shutdown(std::chrono::system_clock::now());
  server.server->Wait();
}

}  // namespace quarry::runtime
