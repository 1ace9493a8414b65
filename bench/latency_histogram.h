// A latency histogram with log-linear buckets, in the manner of HdrHistogram: values below
// 2^kSubBucketBits nanoseconds each have a bucket of their own, and every power of two above
// is split into 2^kSubBucketBits equal buckets, so that a percentile is reported within
// 1 / 2^kSubBucketBits (under 1%) of the recorded value, from 1 ns to hundreds of years, in
// a fixed 60 KiB.
//
// Thread-compatible: one writer at a time; load generators keep one per caller and Merge them.
#ifndef QUARRY_BENCH_LATENCY_HISTOGRAM_H_
#define QUARRY_BENCH_LATENCY_HISTOGRAM_H_

#include <array>
#include <chrono>
#include <cstdint>

namespace quarry::bench {

class LatencyHistogram {
 public:
  static constexpr int kSubBucketBits = 7;  // 128 buckets per power of two: error < 0.8%
  static constexpr int kSubBuckets = 1 << kSubBucketBits;
  static constexpr int kBucketCount = kSubBuckets * (64 - kSubBucketBits + 1);

  void Record(std::chrono::nanoseconds latency);
  void Merge(const LatencyHistogram& other);

  uint64_t count() const { return count_; }
  // Zero when nothing was recorded.
  std::chrono::nanoseconds min() const;
  std::chrono::nanoseconds max() const;
  std::chrono::nanoseconds mean() const;

  // The smallest recorded value (to within the bucket's width) at or below which `quantile`
  // of all recorded values lie, e.g. 0.999 for p99.9. Zero when nothing was recorded.
  // REQUIRES: 0 <= quantile <= 1.
  std::chrono::nanoseconds Percentile(double quantile) const;

  // The bucket of `nanoseconds` and the middle of a bucket's range; exposed for tests.
  static int BucketOf(uint64_t nanoseconds);
  static uint64_t BucketMiddle(int bucket);

 private:
  std::array<uint64_t, kBucketCount> counts_{};
  uint64_t count_ = 0;
  uint64_t min_ = UINT64_MAX;
  uint64_t max_ = 0;
  long double sum_ = 0;
};

}  // namespace quarry::bench

#endif  // QUARRY_BENCH_LATENCY_HISTOGRAM_H_
