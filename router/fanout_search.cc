#include "router/fanout_search.h"

#include <grpcpp/alarm.h>

#include <algorithm>
#include <memory>
#include <utility>

namespace quarry::router {
namespace {

using Clock = std::chrono::steady_clock;

// Codes after which another replica may well succeed.
bool Retryable(grpc::StatusCode code) {
  return code == grpc::StatusCode::UNAVAILABLE || code == grpc::StatusCode::INTERNAL ||
         code == grpc::StatusCode::UNKNOWN || code == grpc::StatusCode::RESOURCE_EXHAUSTED ||
         code == grpc::StatusCode::DATA_LOSS;
}

}  // namespace

struct FanOut::Attempt final : CompletionTag {
  void OnComplete(bool) override { owner->Complete(this); }

  FanOut* owner = nullptr;
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

struct FanOut::ShardCall {
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

// The timer for the next hedge or the deadline; at most one is set at a time.
struct FanOut::Timer final : CompletionTag {
  void OnComplete(bool) override {
    armed = false;
    owner->Step();
  }

  FanOut* owner = nullptr;
  std::unique_ptr<grpc::Alarm> alarm;  // a new one each time it is set
  bool armed = false;
  Clock::time_point at;
};

// The replica to try next: readable ones first, then any other not tried yet (its health may
// be out of date), fewest calls in flight, then lowest recent latency. Stale replicas never.
std::shared_ptr<Replica> FanOut::PickReplica(const ShardCall& call) {
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

std::chrono::microseconds HedgeDelay(const ShardGroup& group, const HedgeOptions& options) {
  if (options.fixed_delay.count() > 0) return options.fixed_delay;
  return std::max(options.min_delay,
                  group.latency->CachedQuantile(options.quantile, options.initial_delay));
}

FanOut::FanOut(const Cluster& cluster, const v1::SearchRequest& request,
               std::chrono::system_clock::time_point deadline, const HedgeOptions& options,
               grpc::CompletionQueue* queue, Done done)
    : request_(request),
      deadline_(deadline),
      queue_(queue),
      done_(std::move(done)),
      timer_(std::make_unique<Timer>()) {
  const Clock::time_point now = Clock::now();
  steady_deadline_ = now + std::chrono::duration_cast<Clock::duration>(
                               deadline - std::chrono::system_clock::now());
  timer_->owner = this;
  shards_.resize(cluster.shard_count());
  for (size_t i = 0; i < shards_.size(); ++i) {
    shards_[i].group = cluster.Shard(i);
    shards_[i].hedge_at = now + HedgeDelay(shards_[i].group, options);
  }
}

FanOut::~FanOut() = default;

void FanOut::Start() { Step(); }

void FanOut::Cancel() {
  cancelled_ = true;
  Step();
}

void FanOut::Step() {
  if (reported_) return;
  const Clock::time_point now = Clock::now();
  const bool expired = cancelled_ || now >= steady_deadline_;
  bool pending = false;
  Clock::time_point wake = steady_deadline_;
  for (size_t i = 0; i < shards_.size(); ++i) pending |= Advance(i, now, expired, wake);

  if (!pending) {
    settled_ = true;
    if (timer_->armed) timer_->alarm->Cancel();  // hands the timer back at once
  } else if (!timer_->armed) {
    timer_->armed = true;
    timer_->at = wake;
    timer_->alarm = std::make_unique<grpc::Alarm>();
    timer_->alarm->Set(
        queue_,
        std::chrono::system_clock::now() +
            std::chrono::duration_cast<std::chrono::system_clock::duration>(wake - Clock::now()),
        timer_.get());
  } else if (wake < timer_->at) {
    timer_->alarm->Cancel();  // set again, earlier, when it comes back
  }

  // Every call handed back by gRPC, and the timer: nothing outlives the request.
  if (settled_ && in_flight_ == 0 && !timer_->armed) {
    reported_ = true;
    Done done = std::move(done_);
    done(Answers());  // may destroy this
  }
}

// Starts, hedges, retries or cancels the calls of shard `i`; true while it waits on a call.
bool FanOut::Advance(size_t i, Clock::time_point now, bool expired, Clock::time_point& wake) {
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
      StartAttempt(i, std::move(replica));
    }
  }
  wake = std::min(wake, call.hedge_at);
  return true;
}

void FanOut::StartAttempt(size_t shard, std::shared_ptr<Replica> replica) {
  Attempt* attempt = shards_[shard].attempts.emplace_back(std::make_unique<Attempt>()).get();
  attempt->owner = this;
  attempt->shard = shard;
  attempt->replica = std::move(replica);
  attempt->started = Clock::now();
  attempt->context.set_deadline(deadline_);
  attempt->replica->CallStarted();
  attempt->reader =
      attempt->replica->stub().PrepareAsyncSearch(&attempt->context, request_, queue_);
  attempt->reader->StartCall();
  attempt->reader->Finish(&attempt->response, &attempt->status, attempt);
  ++in_flight_;
}

void FanOut::Complete(Attempt* attempt) {
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
  Step();
}

std::vector<ShardAnswer> FanOut::Answers() {
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

}  // namespace quarry::router
