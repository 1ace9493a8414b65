#include "router/fanout_search.h"

#include <algorithm>
#include <condition_variable>
#include <memory>
#include <mutex>

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
  std::shared_ptr<Replica> replica;
  grpc::ClientContext context;
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

// Shared by the coordinating thread and gRPC's callbacks; the callbacks keep it alive.
struct FanOut {
  v1::SearchRequest request;
  std::chrono::system_clock::time_point deadline;
  std::mutex mu;
  std::condition_variable changed;
  std::vector<ShardCall> shards;  // guarded by mu
  int in_flight = 0;              // guarded by mu
};

// The replica to try next: readable ones first, then any other not tried yet (its health may
// be out of date), fewest calls in flight, then lowest recent latency. Stale replicas never.
std::shared_ptr<Replica> PickReplica(const ShardCall& call) {
  std::shared_ptr<Replica> best;
  auto rank = [](const Replica& r) {
    return std::make_tuple(r.readable() ? 0 : 1, r.outstanding(),
                           r.latency().Quantile(0.5, std::chrono::microseconds(0)).count());
  };
  for (const std::shared_ptr<Replica>& replica : call.group.replicas) {
    if (replica->stale() || call.Tried(replica.get())) continue;
    if (best == nullptr || rank(*replica) < rank(*best)) best = replica;
  }
  return best;
}

// Registers and starts a call to `replica`. REQUIRES: fanout->mu not held (gRPC may run the
// callback before returning).
void StartAttempt(const std::shared_ptr<FanOut>& fanout, size_t shard,
                  std::shared_ptr<Replica> replica) {
  Attempt* attempt;
  {
    std::lock_guard lock(fanout->mu);
    attempt = fanout->shards[shard].attempts.emplace_back(std::make_unique<Attempt>()).get();
    attempt->replica = std::move(replica);
    attempt->started = Clock::now();
    attempt->context.set_deadline(fanout->deadline);
    ++fanout->in_flight;
  }
  attempt->replica->CallStarted();
  attempt->replica->stub().async()->Search(
      &attempt->context, &fanout->request, &attempt->response,
      [fanout, shard, attempt](grpc::Status status) {
        auto latency =
            std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - attempt->started);
        attempt->replica->CallFinished(status, latency);
        std::lock_guard lock(fanout->mu);
        ShardCall& call = fanout->shards[shard];
        attempt->status = status;
        attempt->done = true;
        --fanout->in_flight;
        if (status.ok() && !call.answered) {
          call.answered = true;
          for (size_t i = 0; i < call.attempts.size(); ++i) {
            if (call.attempts[i].get() == attempt) call.winner = i;
          }
          call.group.latency->Record(latency);
        } else if (!status.ok() && !attempt->cancelled) {
          call.last_error = status;
        }
        fanout->changed.notify_all();
      });
}

}  // namespace

std::chrono::microseconds HedgeDelay(const ShardGroup& group, const HedgeOptions& options) {
  if (options.fixed_delay.count() > 0) return options.fixed_delay;
  return std::max(options.min_delay,
                  group.latency->Quantile(options.quantile, options.initial_delay));
}

std::vector<ShardAnswer> FanOutSearch(const Cluster& cluster, const v1::SearchRequest& request,
                                      std::chrono::system_clock::time_point deadline,
                                      const HedgeOptions& options) {
  auto fanout = std::make_shared<FanOut>();
  fanout->request = request;
  fanout->deadline = deadline;
  const size_t n = cluster.shard_count();
  const Clock::time_point steady_deadline =
      Clock::now() +
      std::chrono::duration_cast<Clock::duration>(deadline - std::chrono::system_clock::now());
  {
    std::lock_guard lock(fanout->mu);
    fanout->shards.resize(n);
    for (size_t i = 0; i < n; ++i) {
      ShardCall& call = fanout->shards[i];
      call.group = cluster.Shard(i);
      call.hedge_at = Clock::now() + HedgeDelay(call.group, options);
    }
  }

  // Each round decides under the lock what to start and cancel, then does it without the lock.
  std::vector<std::pair<size_t, std::shared_ptr<Replica>>> to_start;
  std::vector<grpc::ClientContext*> to_cancel;
  std::unique_lock lock(fanout->mu);
  while (true) {
    const Clock::time_point now = Clock::now();
    const bool expired = now >= steady_deadline;
    bool pending = false;
    Clock::time_point wake = steady_deadline;
    for (size_t i = 0; i < n; ++i) {
      ShardCall& call = fanout->shards[i];
      if (call.answered || call.given_up || call.timed_out || expired) {
        // Losers of a race, and everything once time is up, are cancelled.
        if (!call.answered && !call.given_up && expired) call.timed_out = true;
        for (auto& attempt : call.attempts) {
          if (attempt->done || attempt->cancelled) continue;
          attempt->cancelled = true;
          to_cancel.push_back(&attempt->context);
        }
        continue;
      }
      const int in_flight = call.InFlight();
      if (in_flight == 0 && !call.attempts.empty() && !Retryable(call.last_error.error_code())) {
        call.given_up = true;  // another replica would fail the same way
        continue;
      }
      const bool first = call.attempts.empty();
      const bool failed_over = in_flight == 0 && !first;
      const bool hedge_due = in_flight > 0 && now >= call.hedge_at;
      if (first || failed_over || hedge_due) {
        std::shared_ptr<Replica> replica = PickReplica(call);
        if (replica == nullptr && in_flight == 0) {
          call.given_up = true;
          if (first) {
            call.last_error = grpc::Status(grpc::StatusCode::UNAVAILABLE,
                                           "no replica of the shard is up to date");
          }
          continue;
        }
        if (hedge_due) call.hedge_at = Clock::time_point::max();  // one hedge per shard
        if (replica != nullptr) to_start.emplace_back(i, std::move(replica));
      }
      pending = true;
      wake = std::min(wake, call.hedge_at);
    }

    if (!to_start.empty() || !to_cancel.empty()) {
      lock.unlock();
      for (auto& [shard, replica] : to_start) StartAttempt(fanout, shard, std::move(replica));
      for (grpc::ClientContext* context : to_cancel) context->TryCancel();
      to_start.clear();
      to_cancel.clear();
      lock.lock();
      continue;
    }
    if (!pending) break;
    fanout->changed.wait_until(lock, wake);
  }
  // Every call handed back by gRPC: none outlives the request.
  fanout->changed.wait(lock, [&] { return fanout->in_flight == 0; });

  std::vector<ShardAnswer> answers(n);
  for (size_t i = 0; i < n; ++i) {
    ShardCall& call = fanout->shards[i];
    ShardAnswer& answer = answers[i];
    answer.attempts = call.attempts.size();
    answer.hedged = call.attempts.size() > 1;
    if (call.answered) {
      answer.ok = true;
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

}  // namespace quarry::router
