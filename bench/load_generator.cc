#include "bench/load_generator.h"

#include <algorithm>
#include <atomic>
#include <random>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"

namespace quarry::bench {
namespace {

using Clock = std::chrono::steady_clock;

// The shared state of one run: what has completed, and how many calls are still out.
//
// Thread-safe: completions arrive on gRPC's threads.
class LoadRun {
 public:
  LoadRun(const LoadOptions& options, const StartCall& start_call)
      : options_(options),
        start_call_(start_call),
        begin_(Clock::now()),
        measure_from_(begin_ + Ticks(options.warmup)),
        end_(measure_from_ + Ticks(options.duration)) {}

  void RunClosedLoop() {
    for (int caller = 0; caller < options_.concurrency; ++caller) SendClosedLoop();
    WaitForAll();
  }

  void RunOpenLoop() {
    std::mt19937_64 rng(options_.seed);
    std::exponential_distribution<double> poisson_gap(options_.rate);
    const double fixed_gap = 1.0 / options_.rate;
    Clock::time_point due = begin_;
    while (true) {
      const double gap =
          options_.arrivals == ArrivalProcess::kPoisson ? poisson_gap(rng) : fixed_gap;
      due += Ticks(std::chrono::duration<double>(gap));
      if (due >= end_ || OutOfCalls()) break;
      std::this_thread::sleep_until(due);
      WaitForRoom();
      Send(due, [](LoadRun*) {});
    }
    WaitForAll();
  }

  LoadResult Result() {
    absl::MutexLock lock(&mutex_);
    result_.seconds = options_.duration.count();
    if (OutOfCalls() && last_completion_ < end_) {
      result_.seconds =
          std::max(1e-9, std::chrono::duration<double>(last_completion_ - measure_from_).count());
    }
    result_.achieved_rate = completed_in_window_ / result_.seconds;
    result_.intended_rate = options_.mode == LoadMode::kOpenLoop ? options_.rate : 0;
    return result_;
  }

 private:
  static Clock::duration Ticks(std::chrono::duration<double> seconds) {
    return std::chrono::duration_cast<Clock::duration>(seconds);
  }

  bool OutOfCalls() const {
    return options_.max_calls > 0 && next_sequence_.load() >= options_.max_calls;
  }

  // One closed-loop caller's next request, or its end once the window is over.
  void SendClosedLoop() {
    const Clock::time_point due = Clock::now();
    if (due >= end_ || OutOfCalls()) return;
    Send(due, [](LoadRun* run) { run->SendClosedLoop(); });
  }

  // Starts one call due at `due`; `then` runs after its completion is recorded.
  void Send(Clock::time_point due, void (*then)(LoadRun*)) {
    {
      absl::MutexLock lock(&mutex_);
      ++in_flight_;
    }
    start_call_(next_sequence_.fetch_add(1), [this, due, then](const grpc::Status& status) {
      Record(due, status);
      then(this);
      Finish();
    });
  }

  void Record(Clock::time_point due, const grpc::Status& status) {
    const Clock::time_point now = Clock::now();
    absl::MutexLock lock(&mutex_);
    last_completion_ = std::max(last_completion_, now);
    if (now >= measure_from_ && now <= end_) ++completed_in_window_;
    if (due < measure_from_) {
      ++result_.warmup_calls;
    } else if (status.ok()) {
      ++result_.succeeded;
      result_.latency.Record(std::chrono::duration_cast<std::chrono::nanoseconds>(now - due));
    } else {
      ++result_.failed;
      ++result_.failures_by_code[status.error_code()];
    }
  }

  void Finish() {
    absl::MutexLock lock(&mutex_);
    --in_flight_;
  }

  void WaitForRoom() { absl::MutexLock lock(&mutex_, absl::Condition(this, &LoadRun::HasRoom)); }

  // Closed loop: a caller's next call is counted before its previous one finishes, so the
  // count only reaches zero when every caller has stopped.
  void WaitForAll() { absl::MutexLock lock(&mutex_, absl::Condition(this, &LoadRun::AllDone)); }

  bool HasRoom() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_) {
    return in_flight_ < options_.max_in_flight;
  }
  bool AllDone() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_) { return in_flight_ == 0; }

  const LoadOptions options_;
  const StartCall& start_call_;
  const Clock::time_point begin_;
  const Clock::time_point measure_from_;
  const Clock::time_point end_;
  std::atomic<uint64_t> next_sequence_{0};

  absl::Mutex mutex_;
  int in_flight_ ABSL_GUARDED_BY(mutex_) = 0;
  LoadResult result_ ABSL_GUARDED_BY(mutex_);
  Clock::time_point last_completion_ ABSL_GUARDED_BY(mutex_);
  uint64_t completed_in_window_ ABSL_GUARDED_BY(mutex_) = 0;
};

}  // namespace

absl::StatusOr<LoadResult> RunLoad(const LoadOptions& options, const StartCall& start_call) {
  if (options.duration.count() <= 0 || options.warmup.count() < 0) {
    return absl::InvalidArgumentError("the duration must be positive and the warm-up not negative");
  }
  if (options.mode == LoadMode::kClosedLoop && options.concurrency < 1) {
    return absl::InvalidArgumentError("a closed loop needs at least one caller");
  }
  if (options.mode == LoadMode::kOpenLoop && (options.rate <= 0 || options.max_in_flight < 1)) {
    return absl::InvalidArgumentError("an open loop needs a positive rate and room in flight");
  }
  LoadRun run(options, start_call);
  if (options.mode == LoadMode::kClosedLoop) {
    run.RunClosedLoop();
  } else {
    run.RunOpenLoop();
  }
  return run.Result();
}

std::string StatusCodeName(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::OK:
      return "OK";
    case grpc::StatusCode::CANCELLED:
      return "CANCELLED";
    case grpc::StatusCode::UNKNOWN:
      return "UNKNOWN";
    case grpc::StatusCode::INVALID_ARGUMENT:
      return "INVALID_ARGUMENT";
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return "DEADLINE_EXCEEDED";
    case grpc::StatusCode::NOT_FOUND:
      return "NOT_FOUND";
    case grpc::StatusCode::ALREADY_EXISTS:
      return "ALREADY_EXISTS";
    case grpc::StatusCode::PERMISSION_DENIED:
      return "PERMISSION_DENIED";
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
      return "RESOURCE_EXHAUSTED";
    case grpc::StatusCode::FAILED_PRECONDITION:
      return "FAILED_PRECONDITION";
    case grpc::StatusCode::ABORTED:
      return "ABORTED";
    case grpc::StatusCode::OUT_OF_RANGE:
      return "OUT_OF_RANGE";
    case grpc::StatusCode::UNIMPLEMENTED:
      return "UNIMPLEMENTED";
    case grpc::StatusCode::INTERNAL:
      return "INTERNAL";
    case grpc::StatusCode::UNAVAILABLE:
      return "UNAVAILABLE";
    case grpc::StatusCode::DATA_LOSS:
      return "DATA_LOSS";
    case grpc::StatusCode::UNAUTHENTICATED:
      return "UNAUTHENTICATED";
    default:
      return absl::StrCat("CODE_", static_cast<int>(code));
  }
}

}  // namespace quarry::bench
