// Recent call latencies of one replica or shard, for replica choice and the hedge delay.
//
// Keeps the last `capacity` samples in a ring; percentiles are computed over them on demand.
// Thread-safe.
#ifndef QUARRY_ROUTER_LATENCY_WINDOW_H_
#define QUARRY_ROUTER_LATENCY_WINDOW_H_

#include <atomic>
#include <chrono>
#include <mutex>
#include <vector>

namespace quarry::router {

class LatencyWindow {
 public:
  explicit LatencyWindow(size_t capacity = 512);

  void Record(std::chrono::microseconds latency);

  // The q-quantile (0 to 1) of the recent samples; `fallback` while fewer than `min_samples`
  // have been seen.
  std::chrono::microseconds Quantile(double q, std::chrono::microseconds fallback,
                                     size_t min_samples = 20) const;

  size_t size() const;

  // An exponentially weighted average of the samples, cheap enough to read on every request.
  double average_us() const { return average_us_.load(std::memory_order_relaxed); }

  // Quantile(q, fallback, min_samples), recomputed at most once per `refresh` new samples.
  std::chrono::microseconds CachedQuantile(double q, std::chrono::microseconds fallback,
                                           size_t refresh = 32) const;

 private:
  const size_t capacity_;
  mutable std::mutex mu_;
  std::vector<int64_t> samples_;  // microseconds; guarded by mu_
  size_t next_ = 0;               // guarded by mu_
  std::atomic<double> average_us_{0};
  mutable std::atomic<int64_t> cached_us_{-1};
  mutable std::atomic<size_t> recorded_{0};
  mutable std::atomic<size_t> cached_at_{0};
};

}  // namespace quarry::router

#endif  // QUARRY_ROUTER_LATENCY_WINDOW_H_
