// The standard gRPC server metrics, recorded by an interceptor on every call a server takes:
//
//   grpc_server_started_total{grpc_service, grpc_method, grpc_type}
//   grpc_server_handled_total{grpc_service, grpc_method, grpc_type, grpc_code}
//   grpc_server_handling_seconds{grpc_service, grpc_method, grpc_type}  (histogram)
//
// The names and labels are those of the Go and Java gRPC Prometheus interceptors, so existing
// dashboards read them. A method name comes from the caller, so only methods the server knows
// (those in the generated descriptor pool, and health checks) get their own labels; any other
// is counted as grpc_service="unknown", grpc_method="unknown", keeping the label set bounded.
//
// Thread-safe: the factory is shared by all calls of a server.
#ifndef QUARRY_SERVICES_RUNTIME_GRPC_SERVER_METRICS_H_
#define QUARRY_SERVICES_RUNTIME_GRPC_SERVER_METRICS_H_

#include <grpcpp/support/server_interceptor.h>
#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <atomic>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"

namespace quarry::runtime {

// The metrics of one method; the pointers belong to the registry's families.
struct GrpcMethodMetrics {
  prometheus::Counter* started = nullptr;
  prometheus::Histogram* handling_seconds = nullptr;
  // By status code (0..16), added on first use.
  std::atomic<prometheus::Counter*> handled[17] = {};
  prometheus::Labels labels;  // grpc_service, grpc_method, grpc_type
};

class GrpcServerMetrics final : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  // Registers the three families in `registry`, which must outlive this object.
  explicit GrpcServerMetrics(prometheus::Registry& registry);

  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override;

  // Counts a call's end with `code`.
  void Handled(GrpcMethodMetrics& method, int code, double seconds);

 private:
  GrpcMethodMetrics& MethodMetrics(const char* method,
                                   grpc::experimental::ServerRpcInfo::Type type);

  prometheus::Family<prometheus::Counter>& started_;
  prometheus::Family<prometheus::Counter>& handled_;
  prometheus::Family<prometheus::Histogram>& handling_seconds_;

  absl::Mutex mu_;
  // By "/package.Service/Method", or "unknown" for methods the server does not know.
  absl::flat_hash_map<std::string, std::unique_ptr<GrpcMethodMetrics>> methods_
      ABSL_GUARDED_BY(mu_);
};

}  // namespace quarry::runtime

#endif  // QUARRY_SERVICES_RUNTIME_GRPC_SERVER_METRICS_H_
