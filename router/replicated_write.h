// Sends one write to every replica of a shard and waits for a quorum.
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

// The calls are made on `queue`, whose events a CompletionTag loop hands on (see
// completion_tag.h); they may finish after this returns.
ShardWriteResult WriteToShard(const ShardGroup& group, std::shared_ptr<const ShardWrite> write,
                              uint32_t requested_quorum,
                              std::chrono::system_clock::time_point deadline,
                              grpc::CompletionQueue* queue);

}  // namespace quarry::router

#endif  // QUARRY_ROUTER_REPLICATED_WRITE_H_
