// The shards and replicas the router talks to, kept healthy in the background.
//
// Owns one ShardGroup per shard of the topology. A background thread checks every replica's
// gRPC health, learns the shards' dimension, metric and k limit from their stats, and re-sends
// missed writes to stale replicas. Reload swaps replica addresses in place (SIGHUP); replicas
// whose address stays keep their state. Calls in flight keep the replicas they use alive.
//
// Thread-safe.
#ifndef QUARRY_ROUTER_CLUSTER_H_
#define QUARRY_ROUTER_CLUSTER_H_

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "router/latency_window.h"
#include "router/replica.h"
#include "router/router_metrics.h"
#include "router/topology.h"
#include "shard/request_validation.h"

namespace quarry::router {

struct ClusterOptions {
  ReplicaOptions replica;
  std::chrono::milliseconds health_interval{500};
  std::chrono::milliseconds health_timeout{300};
  RouterMetrics* metrics = nullptr;  // not owned; null: nothing is recorded
};

// The replicas of one shard and the shard's recent latency, which sets its hedge delay.
struct ShardGroup {
  std::vector<std::shared_ptr<Replica>> replicas;
  std::shared_ptr<LatencyWindow> latency;
};

class Cluster {
 public:
  Cluster(const Topology& topology, const ClusterOptions& options);
  ~Cluster();  // stops the background thread

  Cluster(const Cluster&) = delete;
  Cluster& operator=(const Cluster&) = delete;

  // Starts health checks and repairs.
  void Start();

  // Applies new replica addresses. FAILED_PRECONDITION when the number of shards changes.
  absl::Status Reload(const Topology& topology);

  uint32_t shard_count() const { return shard_count_; }
  // A snapshot of shard `shard`'s replicas; REQUIRES: shard < shard_count().
  ShardGroup Shard(uint32_t shard) const;

  // The limits requests are validated against, once a shard has told them.
  std::optional<shard::RequestLimits> limits() const;

  // The shards with at least one healthy replica now.
  uint32_t ReachableShards() const;

 private:
  void BackgroundLoop();
  void CheckHealth();
  void LearnLimits();
  void RepairStaleReplicas();
  // A new replica of shard `shard`.
  std::shared_ptr<Replica> MakeReplica(uint32_t shard, const std::string& address) const;

  const ClusterOptions options_;
  const uint32_t shard_count_;

  mutable std::mutex mu_;
  std::vector<ShardGroup> shards_;              // guarded by mu_
  std::optional<shard::RequestLimits> limits_;  // guarded by mu_
  bool stopping_ = false;                       // guarded by mu_
  std::condition_variable wake_;
  std::thread background_;
};

}  // namespace quarry::router

#endif  // QUARRY_ROUTER_CLUSTER_H_
