#include "services/runtime/health_service.h"

#include <algorithm>
#include <string>
#include <utility>

#include "absl/time/time.h"

namespace quarry::runtime {
namespace {

using grpc::health::v1::HealthCheckResponse;

// How often a Watch looks whether its caller has gone, between changes.
constexpr absl::Duration kWatchPoll = absl::Milliseconds(100);

}  // namespace

HealthService::HealthService(std::vector<std::string> services) : services_(std::move(services)) {}

void HealthService::SetServing(bool serving) {
  absl::MutexLock lock(&mu_);
  if (serving_ == serving) return;
  serving_ = serving;
  ++changes_;
}

HealthCheckResponse::ServingStatus HealthService::StatusOf(const std::string& service) const {
  if (!service.empty() &&
      std::find(services_.begin(), services_.end(), service) == services_.end()) {
    return HealthCheckResponse::SERVICE_UNKNOWN;
  }
  return serving_ ? HealthCheckResponse::SERVING : HealthCheckResponse::NOT_SERVING;
}

grpc::Status HealthService::Check(grpc::ServerContext*,
                                  const grpc::health::v1::HealthCheckRequest* request,
                                  HealthCheckResponse* response) {
  absl::MutexLock lock(&mu_);
  const HealthCheckResponse::ServingStatus status = StatusOf(request->service());
  if (status == HealthCheckResponse::SERVICE_UNKNOWN) {
    return grpc::Status(grpc::StatusCode::NOT_FOUND,
                        "unknown service \"" + request->service() + "\"");
  }
  response->set_status(status);
  return grpc::Status::OK;
}

grpc::Status HealthService::Watch(grpc::ServerContext* context,
                                  const grpc::health::v1::HealthCheckRequest* request,
                                  grpc::ServerWriter<HealthCheckResponse>* writer) {
  uint64_t seen = 0;
  bool sent = false;
  mu_.Lock();
  while (!context->IsCancelled()) {
    if (!sent || changes_ != seen) {
      seen = changes_;
      HealthCheckResponse response;
      response.set_status(StatusOf(request->service()));
      mu_.Unlock();
      const bool written = writer->Write(response);
      mu_.Lock();
      if (!written) break;  // the caller went away, or the server is shutting down
      sent = true;
    }
    const auto changed = [this, seen]()
                             ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return changes_ != seen; };
    mu_.AwaitWithTimeout(absl::Condition(&changed), kWatchPoll);
  }
  mu_.Unlock();
  return grpc::Status(grpc::StatusCode::CANCELLED, "the watch ended");
}

}  // namespace quarry::runtime
