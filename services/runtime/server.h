// Start-up and shutdown of a Quarry gRPC server: listening address, message limits, the
// standard health service (grpc.health.v1), server reflection, and SIGTERM handling.
//
// Every service binary uses these so that all of them behave alike for operators: health is
// NOT_SERVING until the service says it is ready, and a termination signal flips it back to
// NOT_SERVING before in-flight calls are drained.
#ifndef QUARRY_SERVICES_RUNTIME_SERVER_H_
#define QUARRY_SERVICES_RUNTIME_SERVER_H_

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "services/runtime/call_gate.h"
#include "services/runtime/health_service.h"
#include "services/runtime/metrics_endpoint.h"

namespace quarry::runtime {

struct GrpcServerOptions {
  std::string listen = "127.0.0.1:0";  // host:port; port 0 picks a free one
  int max_receive_message_bytes = 64 << 20;
  int max_send_message_bytes = 64 << 20;
  // How the listener authenticates itself and its clients (see TlsConfig); null: plaintext.
  std::shared_ptr<grpc::ServerCredentials> credentials;
  // Records the gRPC server metrics of every call when set; not owned, must outlive the server.
  MetricsEndpoint* metrics = nullptr;
  // Completion queues made for the asynchronous methods of the services; their owner drains
  // them, and shuts them down after the server.
  int completion_queues = 0;
  // Service names the health service answers for besides "" (full names, as
  // "quarry.v1.Router").
  std::vector<std::string> health_services;
};

// A started gRPC server, the port it bound and its health service.
struct RunningServer {
  std::unique_ptr<HealthService> health;  // declared first: the server uses it until destroyed
  std::unique_ptr<grpc::Server> server;
  int port = 0;
  std::vector<std::unique_ptr<grpc::ServerCompletionQueue>> queues;  // see completion_queues
};

// Builds and starts a server for `services` (not owned; they must outlive the server) with
// health checking (NOT_SERVING at first) and reflection. Fails with a message naming the
// address when it cannot be bound.
absl::StatusOr<RunningServer> StartGrpcServer(const GrpcServerOptions& options,
                                              const std::vector<grpc::Service*>& services);

// Sets the health of the server as a whole ("").
void SetServing(RunningServer& server, bool serving);

// Blocks SIGINT, SIGTERM and SIGHUP in the calling thread and in every thread it starts
// afterwards. Call first thing in main(), before any thread exists.
void BlockTerminationSignals();

// Waits until SIGINT or SIGTERM arrives and returns its number. SIGHUP wakes the wait too
// and is returned, so that a caller can reload its configuration and wait again.
int WaitForSignal();

// Marks the server NOT_SERVING, closes `gate` to new calls, waits up to `grace` for the calls in
// flight to finish, then shuts the server down, cancelling whatever still runs.
void DrainAndShutdown(RunningServer& server, CallGate& gate, std::chrono::milliseconds grace);

}  // namespace quarry::runtime

#endif  // QUARRY_SERVICES_RUNTIME_SERVER_H_
