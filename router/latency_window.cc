#include "router/latency_window.h"

#include <algorithm>
#include <cmath>

namespace quarry::router {

LatencyWindow::LatencyWindow(size_t capacity) : capacity_(capacity) { samples_.reserve(capacity); }

void LatencyWindow::Record(std::chrono::microseconds latency) {
  const double previous = average_us_.load(std::memory_order_relaxed);
  average_us_.store(previous == 0 ? latency.count() : 0.9 * previous + 0.1 * latency.count(),
                    std::memory_order_relaxed);
  ++recorded_;
  std::lock_guard lock(mu_);
  if (samples_.size() < capacity_) {
    samples_.push_back(latency.count());
  } else {
    samples_[next_] = latency.count();
    next_ = (next_ + 1) % capacity_;
  }
}

std::chrono::microseconds LatencyWindow::Quantile(double q, std::chrono::microseconds fallback,
                                                  size_t min_samples) const {
  std::vector<int64_t> sorted;
  {
    std::lock_guard lock(mu_);
    if (samples_.size() < std::max<size_t>(min_samples, 1)) return fallback;
    sorted = samples_;
  }
  // Nearest rank: the smallest sample with at least q of the samples at or below it.
  const size_t n = sorted.size();
  const size_t rank =
      q <= 0 ? 0 : std::min(n - 1, static_cast<size_t>(std::ceil(q * static_cast<double>(n))) - 1);
  std::nth_element(sorted.begin(), sorted.begin() + rank, sorted.end());
  return std::chrono::microseconds(sorted[rank]);
}

std::chrono::microseconds LatencyWindow::CachedQuantile(double q,
                                                        std::chrono::microseconds fallback,
                                                        size_t refresh) const {
  const size_t recorded = recorded_.load();
  const int64_t cached = cached_us_.load();
  if (cached >= 0 && recorded - cached_at_.load() < refresh) {
    return std::chrono::microseconds(cached);
  }
  std::chrono::microseconds value = Quantile(q, std::chrono::microseconds(-1));
  if (value.count() < 0) return fallback;
  cached_us_.store(value.count());
  cached_at_.store(recorded);
  return value;
}

size_t LatencyWindow::size() const {
  std::lock_guard lock(mu_);
  return samples_.size();
}

}  // namespace quarry::router
