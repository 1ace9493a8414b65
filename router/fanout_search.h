// Asks every shard for its top-k, one replica per shard at a time, and hedges slow ones.
//
// For each shard: pick a readable replica (fewest calls in flight, then lowest recent
// latency); if it has not answered within the shard's hedge delay (a high quantile of its
// recent latency) ask another and take whichever answers first; when a replica fails with an
// error that another replica might not have, retry on one not yet tried while time remains.
// At the deadline every call still running is cancelled, and FanOutSearch returns only once
// all of them have finished, so no call outlives the request.
#ifndef QUARRY_ROUTER_FANOUT_SEARCH_H_
#define QUARRY_ROUTER_FANOUT_SEARCH_H_

#include <chrono>
#include <vector>

#include "quarry/v1/shard.pb.h"
#include "router/cluster.h"

namespace quarry::router {

struct HedgeOptions {
  double quantile = 0.95;                    // of the shard's recent latency
  std::chrono::microseconds fixed_delay{0};  // when set, used instead of the quantile
  std::chrono::microseconds min_delay{1000};
  std::chrono::microseconds initial_delay{20000};  // before enough latency is known
};

struct ShardAnswer {
  bool ok = false;
  v1::SearchResponse response;
  grpc::Status error;  // the last failure, when !ok
  int attempts = 0;
  bool hedged = false;                   // more than one replica was asked (a hedge or a retry)
  bool hedge_sent = false;               // a second replica was asked because the first was slow
  bool hedge_won = false;                // ... and its answer was the one taken
  std::chrono::microseconds latency{0};  // from the first request to the answer taken, when ok
};

// The hedge delay of a shard now.
std::chrono::microseconds HedgeDelay(const ShardGroup& group, const HedgeOptions& options);

// Sends `request` to every shard of `cluster` and returns their answers, by shard.
// REQUIRES: `deadline` is in the future or has just passed.
std::vector<ShardAnswer> FanOutSearch(const Cluster& cluster, const v1::SearchRequest& request,
                                      std::chrono::system_clock::time_point deadline,
                                      const HedgeOptions& options);

}  // namespace quarry::router

#endif  // QUARRY_ROUTER_FANOUT_SEARCH_H_
