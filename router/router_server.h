// The router served over gRPC: the Cluster of shard replicas, the RouterService over it and
// the server, started and stopped as one unit. `quarry router` runs one; `quarry local` runs
// one beside its shards.
//
// Start binds the address at once and answers health checks with NOT_SERVING until the shards
// have told their limits (dimension, metric, largest k), so that requests can be validated;
// then it turns SERVING. It stays SERVING while a shard has no healthy replica, since the other
// shards' answers are still worth having: it serves degraded (partial results), says so in its
// log once on each change, and reports quarry_router_shards{state="unreachable"}.
//
// Its metrics (gRPC server, process, RouterMetrics) are served over HTTP at /metrics, by
// default on the gRPC port + 1000.
//
// Thread-safe: port(), ready() and Reload from any thread; Stop at most once.
#ifndef QUARRY_ROUTER_ROUTER_SERVER_H_
#define QUARRY_ROUTER_ROUTER_SERVER_H_

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "router/cluster.h"
#include "router/router_metrics.h"
#include "router/router_service.h"
#include "router/topology.h"
#include "services/runtime/metrics_endpoint.h"
#include "services/runtime/server.h"
#include "services/runtime/tls.h"

namespace quarry::router {

struct RouterServerOptions {
  std::string listen = "127.0.0.1:7300";  // host:port; port 0 picks a free one
  Topology topology;
  ClusterOptions cluster;
  RouterOptions router;
  EmbedderFactory embedder;  // null: callers must send vectors
  int max_message_bytes = 64 << 20;
  std::chrono::milliseconds drain{10000};  // grace for calls in flight on Stop
  // Serves with it, and talks to the replicas with it (cluster.replica.tls is set from it).
  runtime::TlsConfig tls;
  // Where /metrics is served: "" for the gRPC port + 1000, "off" for nowhere, or host:port.
  std::string metrics_listen;
  // Event-loop threads serving searches and completing replicated writes, each draining a
  // completion queue of its own (see completion_tag.h).
  int event_loops = 1;
};

class RouterServer {
 public:
  // Starts health checks of the replicas and the server. Fails when the address cannot be
  // bound.
  static absl::StatusOr<std::unique_ptr<RouterServer>> Start(RouterServerOptions options);

  ~RouterServer();  // Stop, if it was not called
  RouterServer(const RouterServer&) = delete;
  RouterServer& operator=(const RouterServer&) = delete;

  int port() const { return port_; }
  int metrics_port() const { return metrics_.port(); }
  // True once the shards' limits are known and the server is SERVING.
  bool ready() const { return ready_; }

  // Applies new replica addresses; FAILED_PRECONDITION when the number of shards changes.
  absl::Status Reload(const Topology& topology) { return cluster_.Reload(topology); }

  // Turns NOT_SERVING, drains calls in flight within the grace period and stops the server.
  void Stop();

 private:
  explicit RouterServer(RouterServerOptions options);

  // Waits for the shards' limits, then turns SERVING (unless stopping first), then watches for
  // shards without a healthy replica until Stop.
  void AwaitReadiness();

  const RouterServerOptions options_;
  runtime::MetricsEndpoint metrics_{"router"};
  RouterMetrics router_metrics_;
  Cluster cluster_;
  RouterService service_;
  runtime::RunningServer server_;
  std::vector<std::thread> event_loops_;
  int port_ = 0;
  std::thread readiness_;
  std::atomic<bool> ready_{false};
  std::atomic<bool> stopping_{false};
  bool stopped_ = false;
};

}  // namespace quarry::router

#endif  // QUARRY_ROUTER_ROUTER_SERVER_H_
