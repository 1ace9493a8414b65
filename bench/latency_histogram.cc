#include "bench/latency_histogram.h"

#include <algorithm>
#include <cassert>
#include <cmath>

namespace quarry::bench {
namespace {

// Bucket b >= kSubBuckets holds the values whose top set bit is kSubBucketBits + shift, with
// shift = b / kSubBuckets - 1, in 2^shift-wide slices.
int ShiftOf(int bucket) { return bucket / LatencyHistogram::kSubBuckets - 1; }

uint64_t LowerBound(int bucket) {
  if (bucket < LatencyHistogram::kSubBuckets) return static_cast<uint64_t>(bucket);
  const int shift = ShiftOf(bucket);
  const uint64_t sub = static_cast<uint64_t>(bucket % LatencyHistogram::kSubBuckets);
  return (LatencyHistogram::kSubBuckets + sub) << shift;
}

}  // namespace

int LatencyHistogram::BucketOf(uint64_t nanoseconds) {
  if (nanoseconds < kSubBuckets) return static_cast<int>(nanoseconds);
  const int top_bit = 63 - __builtin_clzll(nanoseconds);
  const int shift = top_bit - kSubBucketBits;
  // nanoseconds >> shift lies in [kSubBuckets, 2 * kSubBuckets).
  const uint64_t sub = (nanoseconds >> shift) - kSubBuckets;
  return (shift + 1) * kSubBuckets + static_cast<int>(sub);
}

uint64_t LatencyHistogram::BucketMiddle(int bucket) {
  if (bucket < kSubBuckets) return static_cast<uint64_t>(bucket);
  const uint64_t width = uint64_t{1} << ShiftOf(bucket);
  return LowerBound(bucket) + width / 2;
}

void LatencyHistogram::Record(std::chrono::nanoseconds latency) {
  const uint64_t value = static_cast<uint64_t>(std::max<int64_t>(0, latency.count()));
  ++counts_[BucketOf(value)];
  ++count_;
  min_ = std::min(min_, value);
  max_ = std::max(max_, value);
  sum_ += value;
}

void LatencyHistogram::Merge(const LatencyHistogram& other) {
  for (int b = 0; b < kBucketCount; ++b) counts_[b] += other.counts_[b];
  count_ += other.count_;
  min_ = std::min(min_, other.min_);
  max_ = std::max(max_, other.max_);
  sum_ += other.sum_;
}

std::chrono::nanoseconds LatencyHistogram::min() const {
  return std::chrono::nanoseconds(count_ == 0 ? 0 : min_);
}

std::chrono::nanoseconds LatencyHistogram::max() const { return std::chrono::nanoseconds(max_); }

std::chrono::nanoseconds LatencyHistogram::mean() const {
  if (count_ == 0) return std::chrono::nanoseconds(0);
  return std::chrono::nanoseconds(static_cast<int64_t>(sum_ / count_));
}

std::chrono::nanoseconds LatencyHistogram::Percentile(double quantile) const {
  assert(quantile >= 0 && quantile <= 1);
  if (count_ == 0) return std::chrono::nanoseconds(0);
  // The rank of the value asked for, 1-based: p50 of 1..100 is the 50th.
  const uint64_t rank = std::max<uint64_t>(1, static_cast<uint64_t>(std::ceil(quantile * count_)));
  uint64_t seen = 0;
  for (int b = 0; b < kBucketCount; ++b) {
    seen += counts_[b];
    if (seen >= rank) {
      // The extremes are known exactly; a bucket's middle is within half its width otherwise.
      const uint64_t value = std::clamp(BucketMiddle(b), min_, max_);
      return std::chrono::nanoseconds(value);
    }
  }
  return max();
}

}  // namespace quarry::bench
