#include "router/fanout_search.h"

#include <algorithm>
#include <memory>

namespace quarry::router {
namespace {

using Clock = std::chrono::steady_clock;

// Codes after which another replica may well succeed.
bool Retryable(grpc::StatusCode code) {
  return code == grpc::StatusCode::UNAVAILABLE || code == grpc::StatusCode::INTERNAL ||
         code == grpc::StatusCode::UNKNOWN || code == grpc::StatusCode::RESOURCE_EXHAUSTED ||
         code == grpc::StatusCode::DATA_LOSS;
}

struct Attempt {
  size_t shard = 0;
  std::shared_ptr<Replica> replica;
  grpc::ClientContext context;
  std::unique_ptr<grpc::ClientAsyncResponseReader<v1::SearchResponse>> reader;
  v1::SearchResponse response;
  grpc::Status status;
  Clock::time_point started;
  bool done = false;
  bool cancelled = false;
};

struct ShardCall {
  ShardGroup group;
  std::vector<std::unique_ptr<Attempt>> attempts;
  Clock::time_point hedge_at;
  bool answered = false;
  bool given_up = false;
  bool timed_out = false;
  int winner = -1;
  int hedge = -1;  // the attempt sent as a hedge
  Clock::time_point answered_at;
  grpc::Status last_error{grpc::StatusCode::UNAVAILABLE, "no replica was tried"};

  bool Tried(const Replica* replica) const {
    for (const auto& attempt : attempts) {
      if (attempt->replica.get() == replica) return true;
    }
    return false;
  }
  int InFlight() const {
    int n = 0;
    for (const auto& attempt : attempts) n += attempt->done ? 0 : 1;
    return n;
  }
};

// The replica to try next: readable ones first, then any other not tried yet (its health may
// be out of date), fewest calls in flight, then lowest recent latency. Stale replicas never.
std::shared_ptr<Replica> PickReplica(const ShardCall& call) {
  std::shared_ptr<Replica> best;
  auto rank = [](const Replica& r) {
    return std::make_tuple(r.readable() ? 0 : 1, r.outstanding(), r.latency().average_us());
  };
  for (const std::shared_ptr<Replica>& replica : call.group.replicas) {
    if (replica->stale() || call.Tried(replica.get())) continue;
    if (best == nullptr || rank(*replica) < rank(*best)) best = replica;
  }
  return best;
}

// One search across the shards, driven by the calling thread through its own completion
// queue: answers arrive on the thread that waits for them, with no hand-off.
class FanOut {
 public:
  FanOut(const Cluster& cluster, const v1::SearchRequest& request,
         std::chrono::system_clock::time_point deadline, const HedgeOptions& options)
      : request_(request), deadline_(deadline) {
    steady_deadline_ = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                          deadline - std::chrono::system_clock::now());
    shards_.resize(cluster.shard_count());
    for (size_t i = 0; i < shards_.size(); ++i) {
      shards_[i].group = cluster.Shard(i);
      shards_[i].hedge_at = Clock::now() + HedgeDelay(shards_[i].group, options);
    }
  }

  std::vector<ShardAnswer> Run() {
    while (true) {
      const Clock::time_point now = Clock::now();
      const bool expired = now >= steady_deadline_;
      bool pending = false;
      Clock::time_point wake = steady_deadline_;
      for (size_t i = 0; i < shards_.size(); ++i) {
        pending |= Advance(i, now, expired, wake);
      }
      if (!pending) break;
      void* tag;
      bool ok;
      const auto wake_at =
          std::chrono::system_clock::now() +
          std::chrono::duration_cast<std::chrono::system_clock::duration>(wake - Clock::now());
      if (queue_.AsyncNext(&tag, &ok, wake_at) == grpc::CompletionQueue::GOT_EVENT) {
        Complete(static_cast<Attempt*>(tag));
      }
    }
    // Every call handed back by gRPC: none outlives the request.
    while (in_flight_ > 0) {
      void* tag;
      bool ok;
      if (!queue_.Next(&tag, &ok)) break;
      Complete(static_cast<Attempt*>(tag));
    }
    queue_.Shutdown();
    void* tag;
    bool ok;
    while (queue_.Next(&tag, &ok)) {
    }
    return Answers();
  }

 private:
  // Starts, hedges, retries or cancels the calls of shard `i`; true while it waits on a call.
  bool Advance(size_t i, Clock::time_point now, bool expired, Clock::time_point& wake) {
    ShardCall& call = shards_[i];
    if (call.answered || call.given_up || call.timed_out || expired) {
      // Losers of a race, and everything once time is up, are cancelled.
      if (!call.answered && !call.given_up && expired) call.timed_out = true;
      for (auto& attempt : call.attempts) {
        if (attempt->done || attempt->cancelled) continue;
        attempt->cancelled = true;
        attempt->context.TryCancel();
      }
      return false;
    }
    const int in_flight = call.InFlight();
    if (in_flight == 0 && !call.attempts.empty() && !Retryable(call.last_error.error_code())) {
      call.given_up = true;  // another replica would fail the same way
      return false;
    }
    const bool first = call.attempts.empty();
    const bool failed_over = in_flight == 0 && !first;
    const bool hedge_due = in_flight > 0 && now >= call.hedge_at;
    if (first || failed_over || hedge_due) {
      std::shared_ptr<Replica> replica = PickReplica(call);
      if (replica == nullptr && in_flight == 0) {
        call.given_up = true;
        if (first) {
          call.last_error =
              grpc::Status(grpc::StatusCode::UNAVAILABLE, "no replica of the shard is up to date");
        }
        return false;
      }
      if (hedge_due) call.hedge_at = Clock::time_point::max();  // one hedge per shard
      if (replica != nullptr) {
        if (hedge_due) call.hedge = static_cast<int>(call.attempts.size());
        Start(i, std::move(replica));
      }
    }
    wake = std::min(wake, call.hedge_at);
    return true;
  }

  void Start(size_t shard, std::shared_ptr<Replica> replica) {
    Attempt* attempt = shards_[shard].attempts.emplace_back(std::make_unique<Attempt>()).get();
    attempt->shard = shard;
    attempt->replica = std::move(replica);
    attempt->started = Clock::now();
    attempt->context.set_deadline(deadline_);
    attempt->replica->CallStarted();
    attempt->reader =
        attempt->replica->stub().PrepareAsyncSearch(&attempt->context, request_, &queue_);
    attempt->reader->StartCall();
    attempt->reader->Finish(&attempt->response, &attempt->status, attempt);
    ++in_flight_;
  }

  void Complete(Attempt* attempt) {
    --in_flight_;
    attempt->done = true;
    auto latency =
        std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - attempt->started);
    attempt->replica->CallFinished(attempt->status, latency);
    ShardCall& call = shards_[attempt->shard];
    if (attempt->status.ok() && !call.answered) {
      call.answered = true;
      call.answered_at = Clock::now();
      for (size_t i = 0; i < call.attempts.size(); ++i) {
        if (call.attempts[i].get() == attempt) call.winner = i;
      }
      call.group.latency->Record(latency);
    } else if (!attempt->status.ok() && !attempt->cancelled) {
      call.last_error = attempt->status;
    }
  }

  std::vector<ShardAnswer> Answers() {
    std::vector<ShardAnswer> answers(shards_.size());
    for (size_t i = 0; i < shards_.size(); ++i) {
      ShardCall& call = shards_[i];
      ShardAnswer& answer = answers[i];
      answer.attempts = call.attempts.size();
      answer.hedged = call.attempts.size() > 1;
      answer.hedge_sent = call.hedge >= 0;
      if (call.answered) {
        answer.ok = true;
        answer.hedge_won = call.winner == call.hedge;
        answer.latency = std::chrono::duration_cast<std::chrono::microseconds>(
            call.answered_at - call.attempts.front()->started);
        answer.response = std::move(call.attempts[call.winner]->response);
      } else if (call.timed_out) {
        answer.error =
            grpc::Status(grpc::StatusCode::DEADLINE_EXCEEDED, "the shard did not answer in time");
      } else {
        answer.error = call.last_error;
      }
    }
    return answers;
  }

  const v1::SearchRequest& request_;
  const std::chrono::system_clock::time_point deadline_;
  Clock::time_point steady_deadline_;
  grpc::CompletionQueue queue_;
  std::vector<ShardCall> shards_;
  int in_flight_ = 0;
};

}  // namespace

std::chrono::microseconds HedgeDelay(const ShardGroup& group, const HedgeOptions& options) {
  if (options.fixed_delay.count() > 0) return options.fixed_delay;
  return std::max(options.min_delay,
                  group.latency->CachedQuantile(options.quantile, options.initial_delay));
}

std::vector<ShardAnswer> FanOutSearch(const Cluster& cluster, const v1::SearchRequest& request,
                                      std::chrono::system_clock::time_point deadline,
                                      const HedgeOptions& options) {
  return FanOut(cluster, request, deadline, options).Run();
}

}  // namespace quarry::router
