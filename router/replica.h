// One replica of one shard as the router sees it: its channel and stubs, whether it may be
// read from, how busy and how fast it has been, and the writes it missed.
//
// A replica is readable when its health checks say SERVING, it is not ejected for repeated
// errors, and it is not stale. It turns stale when it fails a write that another replica of
// its shard took; from then on its writes queue up (in order) until the repair loop has
// re-sent them all, so it never serves reads that miss acknowledged writes.
//
// Thread-safe.
#ifndef QUARRY_ROUTER_REPLICA_H_
#define QUARRY_ROUTER_REPLICA_H_

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <chrono>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "grpc/health/v1/health.grpc.pb.h"
#include "quarry/v1/shard.grpc.pb.h"
#include "router/latency_window.h"
#include "services/runtime/tls.h"

namespace quarry::router {

// A write bound for one shard: an upsert or a delete.
struct ShardWrite {
  std::optional<v1::UpsertRequest> upsert;
  std::optional<v1::DeleteRequest> remove;
};

struct ReplicaOptions {
  int eject_after_errors = 3;                 // consecutive call errors
  std::chrono::milliseconds eject_for{2000};  // before health checks may bring it back
  size_t max_pending_writes = 100000;
  runtime::TlsConfig tls;  // how the channel to the replica authenticates; empty: plaintext
  std::function<void()> on_ejected;  // may be empty; runs with the replica's lock held
};

class Replica {
 public:
  Replica(std::string address, const ReplicaOptions& options);

  const std::string& address() const { return address_; }
  v1::Shard::Stub& stub() { return *stub_; }
  grpc::health::v1::Health::Stub& health_stub() { return *health_; }

  bool healthy() const;
  bool ejected() const;
  bool stale() const;
  bool readable() const { return healthy() && !stale(); }

  // Passive health: every finished call reports here. Errors that say the replica is in
  // trouble (unavailable, timed out, internal) count towards ejection; success resets them.
  void CallStarted() { ++outstanding_; }
  void CallFinished(const grpc::Status& status, std::chrono::microseconds latency);
  int outstanding() const { return outstanding_.load(); }
  const LatencyWindow& latency() const { return latency_; }

  // Active health: the result of the latest health check.
  void SetServing(bool serving);

  // Queues `write` when the replica is stale and returns true; false means the caller sends it.
  bool QueueIfStale(std::shared_ptr<const ShardWrite> write);
  // Marks the replica stale after it failed `write`, which is queued for re-sending.
  void MarkMissed(std::shared_ptr<const ShardWrite> write, const std::string& error);
  // The oldest missed write, if any; the repair loop sends it and then calls WriteRepaired.
  std::shared_ptr<const ShardWrite> NextMissedWrite() const;
  // Drops the oldest missed write; the replica is up to date again when none remain.
  void WriteRepaired();
  size_t pending_writes() const;

  std::string last_error() const;

 private:
  const std::string address_;
  const ReplicaOptions options_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::Shard::Stub> stub_;
  std::unique_ptr<grpc::health::v1::Health::Stub> health_;
  LatencyWindow latency_;
  std::atomic<int> outstanding_{0};

  mutable std::mutex mu_;
  bool serving_ = false;                                                // guarded by mu_
  int consecutive_errors_ = 0;                                          // guarded by mu_
  std::optional<std::chrono::steady_clock::time_point> ejected_until_;  // guarded by mu_
  bool stale_ = false;                                                  // guarded by mu_
  bool overflowed_ = false;  // guarded by mu_; missed more writes than it can queue
  std::deque<std::shared_ptr<const ShardWrite>> missed_;  // guarded by mu_
  std::string last_error_;                                // guarded by mu_
};

}  // namespace quarry::router

#endif  // QUARRY_ROUTER_REPLICA_H_
