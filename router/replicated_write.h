// Sends one write to every replica of a shard, and waits for a quorum when asked: a request
// that writes to several shards starts every shard's write, then waits for each.
//
// Replicas that are stale get the write queued behind their missed writes instead. A replica
// that fails the write (for a reason other than the write itself being invalid) turns stale
// with the write queued, including when it fails after the quorum was reached and the caller
// has already been answered.
#ifndef QUARRY_ROUTER_REPLICATED_WRITE_H_
#define QUARRY_ROUTER_REPLICATED_WRITE_H_

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "router/cluster.h"

namespace quarry::router {

struct ShardWriteResult {
  std::vector<std::string> acked;   // replicas that acknowledged the write
  std::vector<std::string> failed;  // replicas that failed it or are stale
  bool quorum = false;
  std::string error;                             // why the quorum was not reached
  grpc::StatusCode code = grpc::StatusCode::OK;  // the status to report when !quorum
  // The first acknowledging replica's answer.
  v1::UpsertResponse upsert;
  v1::DeleteResponse remove;
};

// The number of acknowledgements a write needs: `requested` capped at the replica count, or a
// majority when `requested` is 0.
size_t WriteQuorum(size_t replicas, uint32_t requested);

struct WriteState;

// A write sent to the replicas of one shard, not yet waited for.
class PendingShardWrite {
 public:
  ~PendingShardWrite();
  PendingShardWrite(PendingShardWrite&&) noexcept;
  PendingShardWrite& operator=(PendingShardWrite&&) noexcept;

  // Waits until a quorum acknowledged, every replica answered, or the deadline passed; the
  // calls still out then finish on their own. Call at most once.
  ShardWriteResult Wait();

 private:
  friend PendingShardWrite StartShardWrite(const ShardGroup&, std::shared_ptr<const ShardWrite>,
                                           uint32_t, std::chrono::system_clock::time_point,
                                           grpc::CompletionQueue*);
  PendingShardWrite() = default;

  std::shared_ptr<WriteState> state_;
  std::vector<std::string> addresses_;  // every replica of the shard
  size_t needed_ = 0;
  size_t sent_ = 0;
  std::chrono::system_clock::time_point deadline_;
};

// Sends `write` to every replica of `group` that is not stale, on `queue`, whose events a
// CompletionTag loop hands on (see completion_tag.h); the calls may finish after the result is
// waited for.
PendingShardWrite StartShardWrite(const ShardGroup& group, std::shared_ptr<const ShardWrite> write,
                                  uint32_t requested_quorum,
                                  std::chrono::system_clock::time_point deadline,
                                  grpc::CompletionQueue* queue);

}  // namespace quarry::router

#endif  // QUARRY_ROUTER_REPLICATED_WRITE_H_
