// The Prometheus metrics of one service: the registry its parts add their families to, the
// standard gRPC server metrics (through the interceptor it makes), the process metrics, and the
// HTTP listener that serves them all as text at /metrics.
//
// By convention a service's metrics are served on its gRPC port + 1000 (MetricsAddress).
//
// Thread-safety: registry() and the interceptors may be used from any thread; AddScraped and
// Serve are for start-up, before the first scrape.
#ifndef QUARRY_SERVICES_RUNTIME_METRICS_ENDPOINT_H_
#define QUARRY_SERVICES_RUNTIME_METRICS_ENDPOINT_H_

#include <grpcpp/support/server_interceptor.h>
#include <prometheus/registry.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "services/runtime/metrics_http_server.h"
#include "services/runtime/scraped_metrics.h"

namespace quarry::runtime {

class MetricsEndpoint {
 public:
  // `service` names the service in quarry_build_info.
  explicit MetricsEndpoint(std::string service);
  ~MetricsEndpoint();
  MetricsEndpoint(const MetricsEndpoint&) = delete;
  MetricsEndpoint& operator=(const MetricsEndpoint&) = delete;

  prometheus::Registry& registry() { return *registry_; }

  // An interceptor factory recording the gRPC server metrics into registry(), for a server
  // that this endpoint outlives.
  std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface> GrpcInterceptor();

  // Adds values read at each scrape; may be called while serving.
  void AddScraped(ScrapedMetrics::Reader reader);

  // Serves /metrics on `address` ("host:port"; port 0 picks one). UNAVAILABLE, naming the
  // address, when it cannot be bound.
  absl::Status Serve(const std::string& address);

  // Stops serving; no scrape runs after it returns. Owners whose scraped values read their
  // members call it before those members are destroyed.
  void Stop();

  // Serves where MetricsAddress says for a gRPC server on `grpc_port` asked to listen on
  // `grpc_listen`, with `configured` the operator's choice ("" for the convention, "off").
  absl::Status ServeBesideGrpc(absl::string_view configured, absl::string_view grpc_listen,
                               int grpc_port);

  // The port serving, 0 before Serve.
  int port() const { return port_; }

 private:
  // Everything registered, as Prometheus text.
  std::string Render() const;

  const std::string service_;
  const std::shared_ptr<prometheus::Registry> registry_;
  mutable absl::Mutex mu_;
  std::vector<std::unique_ptr<ScrapedMetrics>> scraped_ ABSL_GUARDED_BY(mu_);
  std::unique_ptr<MetricsHttpServer> server_;
  int port_ = 0;
};

// Where a service serves its metrics: `configured` when set ("off" for nowhere: returns ""),
// otherwise the host of `grpc_listen` (all interfaces when it names none) with `grpc_port` + 1000,
// or with port 0 (any free one) when `grpc_listen` asked for port 0.
// INVALID_ARGUMENT when the derived port would pass 65535.
absl::StatusOr<std::string> MetricsAddress(absl::string_view configured,
                                           absl::string_view grpc_listen, int grpc_port);

}  // namespace quarry::runtime

#endif  // QUARRY_SERVICES_RUNTIME_METRICS_ENDPOINT_H_
