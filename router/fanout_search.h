// Asks every shard for its top-k, one replica per shard at a time, and hedges slow ones.
//
// For each shard: pick a readable replica (fewest calls in flight, then lowest recent
// latency); if it has not answered within the shard's hedge delay (a high quantile of its
// recent latency) ask another and take whichever answers first; when a replica fails with an
// error that another replica might not have, retry on one not yet tried while time remains.
// At the deadline every call still running is cancelled, and the answers are given only once
// all of them have finished, so no call outlives the request.
#ifndef QUARRY_ROUTER_FANOUT_SEARCH_H_
#define QUARRY_ROUTER_FANOUT_SEARCH_H_

#include <chrono>
#include <functional>
#include <memory>
#include <vector>

#include "quarry/v1/shard.pb.h"
#include "router/cluster.h"
#include "router/completion_tag.h"

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

// One search across the shards, driven by the events of a completion queue (see
// completion_tag.h): the calls to the shards, and a timer for the next hedge or the deadline.
// Every event must be handed to its tag by the thread that drains the queue.
class FanOut {
 public:
  using Done = std::function<void(std::vector<ShardAnswer> answers)>;

  // `request` must outlive the FanOut. `done` runs once, on the queue's thread, with the
  // answers by shard, when every shard has answered or given up and every call and timer has
  // been handed back; it may destroy the FanOut.
  // REQUIRES: `deadline` is in the future or has just passed.
  FanOut(const Cluster& cluster, const v1::SearchRequest& request,
         std::chrono::system_clock::time_point deadline, const HedgeOptions& options,
         grpc::CompletionQueue* queue, Done done);
  ~FanOut();

  FanOut(const FanOut&) = delete;
  FanOut& operator=(const FanOut&) = delete;

  // Sends the first calls.
  void Start();

  // Gives up at once, as if the deadline had come: calls still out are cancelled (the caller
  // has gone away, say). The answers are still given, once the calls are back.
  void Cancel();

 private:
  struct Attempt;
  struct ShardCall;
  struct Timer;

  // Starts, hedges, retries or cancels what each shard needs now, sets the timer for the next
  // thing due, and reports the answers once everything is back.
  void Step();
  bool Advance(size_t shard, std::chrono::steady_clock::time_point now, bool expired,
               std::chrono::steady_clock::time_point& wake);
  void StartAttempt(size_t shard, std::shared_ptr<Replica> replica);
  void Complete(Attempt* attempt);
  std::vector<ShardAnswer> Answers();
  static std::shared_ptr<Replica> PickReplica(const ShardCall& call);

  const v1::SearchRequest& request_;
  const std::chrono::system_clock::time_point deadline_;
  std::chrono::steady_clock::time_point steady_deadline_;
  grpc::CompletionQueue* const queue_;
  Done done_;
  std::vector<ShardCall> shards_;
  std::unique_ptr<Timer> timer_;
  int in_flight_ = 0;
  bool cancelled_ = false;
  bool settled_ = false;  // every shard answered, gave up or ran out of time
  bool reported_ = false;
};

}  // namespace quarry::router

#endif  // QUARRY_ROUTER_FANOUT_SEARCH_H_
