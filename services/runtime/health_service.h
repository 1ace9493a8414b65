// The standard gRPC health service (grpc.health.v1.Health) for a Quarry server, served on the
// server's synchronous threads.
//
// gRPC's built-in health service runs on its callback API, which keeps threads of its own
// polling for every connection of the process; each of them wakes on every call the server
// answers, which costs a measurable share of a round trip on a small machine (see
// docs/router.md). This one answers Check from the status last set, and streams Watch: the
// status at once, then every change, until the caller goes away or the server shuts down.
//
// The server as a whole ("") and the services it was told of share one status; any other
// service name is unknown: Check answers NOT_FOUND and Watch sends SERVICE_UNKNOWN, as the
// protocol asks.
//
// Thread-safe.
#ifndef QUARRY_SERVICES_RUNTIME_HEALTH_SERVICE_H_
#define QUARRY_SERVICES_RUNTIME_HEALTH_SERVICE_H_

#include <grpcpp/grpcpp.h>

#include <cstdint>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "grpc/health/v1/health.grpc.pb.h"

namespace quarry::runtime {

class HealthService final : public grpc::health::v1::Health::Service {
 public:
  // Answers for "" and for `services` (full names, as "quarry.v1.Router"); NOT_SERVING until
  // SetServing(true).
  explicit HealthService(std::vector<std::string> services = {});

  void SetServing(bool serving);

  grpc::Status Check(grpc::ServerContext* context,
                     const grpc::health::v1::HealthCheckRequest* request,
                     grpc::health::v1::HealthCheckResponse* response) override;
  grpc::Status Watch(grpc::ServerContext* context,
                     const grpc::health::v1::HealthCheckRequest* request,
                     grpc::ServerWriter<grpc::health::v1::HealthCheckResponse>* writer) override;

 private:
  grpc::health::v1::HealthCheckResponse::ServingStatus StatusOf(const std::string& service) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const std::vector<std::string> services_;
  mutable absl::Mutex mu_;
  bool serving_ ABSL_GUARDED_BY(mu_) = false;
  uint64_t changes_ ABSL_GUARDED_BY(mu_) = 0;  // bumped by every change, for Watch
};

}  // namespace quarry::runtime

#endif  // QUARRY_SERVICES_RUNTIME_HEALTH_SERVICE_H_
