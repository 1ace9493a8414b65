// One shard served over gRPC: the server, its ShardService and the Shard behind it, started
// and stopped as one unit. `quarry shard` runs one; `quarry local` runs several in a process.
//
// Start binds the address at once and answers health checks with NOT_SERVING while the shard
// opens and recovers its index on a thread of its own; then it turns SERVING. A shard that
// cannot open cannot serve: the failure is logged and the process gets SIGTERM, so that its
// main loop stops every part it runs and exits non-zero (Stop returns the failure).
//
// Its metrics (the gRPC server's, the process's and the shard's own; see ShardMetrics) are
// served over HTTP at /metrics, by default on the gRPC port + 1000.
//
// Thread-safe: port() and ready() from any thread; Stop at most once.
#ifndef QUARRY_SHARD_SHARD_SERVER_H_
#define QUARRY_SHARD_SHARD_SERVER_H_

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "services/runtime/metrics_endpoint.h"
#include "services/runtime/server.h"
#include "services/runtime/tls.h"
#include "shard/shard.h"
#include "shard/shard_metrics.h"
#include "shard/shard_service.h"

namespace quarry::shard {

struct ShardServerOptions {
  std::string listen = "127.0.0.1:7310";  // host:port; port 0 picks a free one
  ShardOptions shard;
  int max_message_bytes = 64 << 20;
  std::chrono::milliseconds drain{10000};  // grace for calls in flight on Stop
  runtime::TlsConfig tls;                  // empty: plaintext
  // Where /metrics is served: "" for the gRPC port + 1000, "off" for nowhere, or host:port.
  std::string metrics_listen;
};

class ShardServer {
 public:
  // Starts the server; the shard opens in the background. Fails when the address cannot be
  // bound.
  static absl::StatusOr<std::unique_ptr<ShardServer>> Start(const ShardServerOptions& options);

  ~ShardServer();  // Stop, if it was not called
  ShardServer(const ShardServer&) = delete;
  ShardServer& operator=(const ShardServer&) = delete;

  int port() const { return port_; }
  // The port serving /metrics; 0 when off.
  int metrics_port() const { return metrics_.port(); }
  // True once the shard has opened and the server is SERVING.
  bool ready() const { return ready_; }

  // Turns NOT_SERVING, drains calls in flight within the grace period, stops the server and
  // closes the shard with a final index snapshot. Returns why the shard could not open, or why
  // the final snapshot failed.
  absl::Status Stop();

 private:
  explicit ShardServer(const ShardServerOptions& options);

  void Open();
  // The shard's counts and sizes, read at each scrape.
  std::vector<runtime::ScrapedValue> MetricValues();

  const ShardServerOptions options_;
  runtime::MetricsEndpoint metrics_{"shard"};
  ShardMetrics shard_metrics_;
  ShardService service_;
  runtime::RunningServer server_;
  int port_ = 0;
  std::thread opener_;
  std::atomic<bool> ready_{false};
  bool stopped_ = false;

  absl::Mutex mu_;
  std::unique_ptr<Shard> shard_ ABSL_GUARDED_BY(mu_);
  absl::Status open_status_ ABSL_GUARDED_BY(mu_);
};

}  // namespace quarry::shard

#endif  // QUARRY_SHARD_SHARD_SERVER_H_
