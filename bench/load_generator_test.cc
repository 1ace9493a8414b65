#include "bench/load_generator.h"

#include <gtest/gtest.h>

#include <chrono>
#include <mutex>
#include <thread>
#include <vector>

namespace quarry::bench {
namespace {

using std::chrono::milliseconds;

// Completes every call on a thread of its own after `latency`, with `status`; joins them all
// when destroyed.
class FakeService {
 public:
  explicit FakeService(milliseconds latency, grpc::Status status = grpc::Status::OK)
      : latency_(latency), status_(std::move(status)) {}
  ~FakeService() {
    std::lock_guard<std::mutex> lock(mutex_);
    for (std::thread& thread : threads_) thread.join();
  }

  StartCall Calls() {
    return [this](uint64_t, CallDone done) {
      std::lock_guard<std::mutex> lock(mutex_);
      threads_.emplace_back([this, done = std::move(done)] {
        std::this_thread::sleep_for(latency_);
        done(status_);
      });
    };
  }

 private:
  const milliseconds latency_;
  const grpc::Status status_;
  std::mutex mutex_;
  std::vector<std::thread> threads_;
};

LoadOptions ShortRun(LoadMode mode) {
  LoadOptions options;
  options.mode = mode;
  options.warmup = std::chrono::duration<double>(0.1);
  options.duration = std::chrono::duration<double>(0.5);
  return options;
}

TEST(RunLoad, ClosedLoopKeepsEachCallerBusy) {
  FakeService service(milliseconds(10));
  LoadOptions options = ShortRun(LoadMode::kClosedLoop);
  options.concurrency = 2;
  absl::StatusOr<LoadResult> result = RunLoad(options, service.Calls());
  ASSERT_TRUE(result.ok()) << result.status();
  // Two callers of 10 ms calls: at most 200 calls/s, somewhat fewer with thread start-up.
  EXPECT_GT(result->achieved_rate, 120);
  EXPECT_LE(result->achieved_rate, 205);
  EXPECT_GE(result->latency.Percentile(0.5), milliseconds(10));
  EXPECT_LT(result->latency.Percentile(0.5), milliseconds(30));
  EXPECT_GT(result->warmup_calls, 0u);
  EXPECT_EQ(result->failed, 0u);
}

TEST(RunLoad, OpenLoopSendsAtTheRequestedRate) {
  FakeService service(milliseconds(1));
  LoadOptions options = ShortRun(LoadMode::kOpenLoop);
  options.rate = 200;
  options.arrivals = ArrivalProcess::kFixedInterval;
  absl::StatusOr<LoadResult> result = RunLoad(options, service.Calls());
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_NEAR(static_cast<double>(result->succeeded), 100, 3);
  EXPECT_DOUBLE_EQ(result->intended_rate, 200);
  EXPECT_LT(result->latency.Percentile(0.5), milliseconds(20));
}

TEST(RunLoad, OpenLoopMeasuresFromTheDueTimeWhenTheServiceFallsBehind) {
  // One call at a time, each 20 ms, but one due every 5 ms: the queue grows, and the latency
  // seen by the late calls must include their wait.
  FakeService service(milliseconds(20));
  LoadOptions options = ShortRun(LoadMode::kOpenLoop);
  options.rate = 200;
  options.arrivals = ArrivalProcess::kFixedInterval;
  options.max_in_flight = 1;
  options.warmup = std::chrono::duration<double>(0);
  options.duration = std::chrono::duration<double>(0.2);
  absl::StatusOr<LoadResult> result = RunLoad(options, service.Calls());
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_GT(result->latency.Percentile(0.99), milliseconds(200));
  EXPECT_LT(result->achieved_rate, 60);  // one call per 20 ms at most
}

TEST(RunLoad, CountsFailuresByStatusCode) {
  FakeService service(milliseconds(1), grpc::Status(grpc::StatusCode::UNAVAILABLE, "down"));
  LoadOptions options = ShortRun(LoadMode::kClosedLoop);
  options.concurrency = 1;
  absl::StatusOr<LoadResult> result = RunLoad(options, service.Calls());
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->succeeded, 0u);
  EXPECT_GT(result->failed, 0u);
  EXPECT_EQ(result->failures_by_code[grpc::StatusCode::UNAVAILABLE], result->failed);
  EXPECT_EQ(result->latency.count(), 0u);
}

TEST(RunLoad, StopsAfterMaxCallsAndTimesTheWindowToTheLast) {
  FakeService service(milliseconds(5));
  LoadOptions options = ShortRun(LoadMode::kClosedLoop);
  options.concurrency = 2;
  options.warmup = std::chrono::duration<double>(0);
  options.duration = std::chrono::duration<double>(60);
  options.max_calls = 20;
  absl::StatusOr<LoadResult> result = RunLoad(options, service.Calls());
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->succeeded, 20u);
  EXPECT_LT(result->seconds, 1.0);
  EXPECT_GT(result->achieved_rate, 100);
}

TEST(RunLoad, RejectsAnOpenLoopWithoutARate) {
  FakeService service(milliseconds(1));
  LoadOptions options = ShortRun(LoadMode::kOpenLoop);
  options.rate = 0;
  EXPECT_FALSE(RunLoad(options, service.Calls()).ok());
}

}  // namespace
}  // namespace quarry::bench
