// Conversions between absl::Status, used everywhere inside Quarry, and grpc::Status, used only
// at the edge of a service.
#ifndef QUARRY_SERVICES_RUNTIME_STATUS_H_
#define QUARRY_SERVICES_RUNTIME_STATUS_H_

#include <grpcpp/support/status.h>

#include "absl/status/status.h"

namespace quarry::runtime {

// The gRPC status with the same code and message.
grpc::Status ToGrpcStatus(const absl::Status& status);

// The absl status with the same code and message.
absl::Status FromGrpcStatus(const grpc::Status& status);

}  // namespace quarry::runtime

#endif  // QUARRY_SERVICES_RUNTIME_STATUS_H_
