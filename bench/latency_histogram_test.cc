#include "bench/latency_histogram.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <random>

namespace quarry::bench {
namespace {

using std::chrono::nanoseconds;

// Within the histogram's bounded relative error (1 / 2^kSubBucketBits).
void ExpectNear(double expected, nanoseconds actual) {
  EXPECT_NEAR(static_cast<double>(actual.count()), expected,
              expected / LatencyHistogram::kSubBuckets + 1)
      << "expected " << expected;
}

TEST(LatencyHistogram, EmptyReportsZero) {
  LatencyHistogram histogram;
  EXPECT_EQ(histogram.count(), 0u);
  EXPECT_EQ(histogram.Percentile(0.99).count(), 0);
  EXPECT_EQ(histogram.max().count(), 0);
  EXPECT_EQ(histogram.min().count(), 0);
}

TEST(LatencyHistogram, SmallValuesAreExact) {
  LatencyHistogram histogram;
  for (int v = 1; v <= 100; ++v) histogram.Record(nanoseconds(v));
  EXPECT_EQ(histogram.Percentile(0.5).count(), 50);
  EXPECT_EQ(histogram.Percentile(0.99).count(), 99);
  EXPECT_EQ(histogram.Percentile(1.0).count(), 100);
  EXPECT_EQ(histogram.min().count(), 1);
  EXPECT_EQ(histogram.mean().count(), 50);
}

TEST(LatencyHistogram, BucketsKeepRelativeErrorBoundedAcrossMagnitudes) {
  for (uint64_t value : {uint64_t{127}, uint64_t{128}, uint64_t{1000}, uint64_t{123456789},
                         uint64_t{1} << 40, (uint64_t{1} << 62) + 12345}) {
    const int bucket = LatencyHistogram::BucketOf(value);
    ASSERT_LT(bucket, LatencyHistogram::kBucketCount);
    const double middle = static_cast<double>(LatencyHistogram::BucketMiddle(bucket));
    EXPECT_LE(std::abs(middle - static_cast<double>(value)),
              static_cast<double>(value) / LatencyHistogram::kSubBuckets)
        << value;
  }
  EXPECT_LT(LatencyHistogram::BucketOf(UINT64_MAX), LatencyHistogram::kBucketCount);
}

TEST(LatencyHistogram, PercentilesOfUniformMicroseconds) {
  LatencyHistogram histogram;
  // 1 us .. 10 ms in 1 us steps: the q-quantile is q * 10 ms.
  for (int us = 1; us <= 10000; ++us) histogram.Record(nanoseconds(us * 1000));
  ExpectNear(5e6, histogram.Percentile(0.5));
  ExpectNear(9e6, histogram.Percentile(0.9));
  ExpectNear(9.9e6, histogram.Percentile(0.99));
  ExpectNear(9.99e6, histogram.Percentile(0.999));
  EXPECT_EQ(histogram.max().count(), 10000000);
}

TEST(LatencyHistogram, PercentilesOfExponentialSamples) {
  std::mt19937_64 rng(7);
  std::exponential_distribution<double> exponential(1.0 / 2e6);  // mean 2 ms
  LatencyHistogram histogram;
  for (int i = 0; i < 200000; ++i) {
    histogram.Record(nanoseconds(static_cast<int64_t>(exponential(rng))));
  }
  // Quantile q of an exponential with mean m is -m ln(1 - q); sampling adds ~1% noise.
  for (double q : {0.5, 0.9, 0.99}) {
    const double expected = -2e6 * std::log(1 - q);
    EXPECT_NEAR(static_cast<double>(histogram.Percentile(q).count()), expected, 0.03 * expected)
        << q;
  }
}

TEST(LatencyHistogram, MergeEqualsRecordingEverythingInOne) {
  LatencyHistogram fast, slow, together;
  for (int i = 1; i <= 900; ++i) {
    fast.Record(nanoseconds(i * 1000));
    together.Record(nanoseconds(i * 1000));
  }
  for (int i = 1; i <= 100; ++i) {
    slow.Record(nanoseconds(i * 1000000));
    together.Record(nanoseconds(i * 1000000));
  }
  fast.Merge(slow);
  EXPECT_EQ(fast.count(), 1000u);
  EXPECT_EQ(fast.min(), together.min());
  EXPECT_EQ(fast.max(), together.max());
  for (double q : {0.5, 0.9, 0.95, 0.99, 0.999}) {
    EXPECT_EQ(fast.Percentile(q), together.Percentile(q)) << q;
  }
  // The slow tenth starts at p90.
  EXPECT_LT(fast.Percentile(0.9).count(), 1000000);
  EXPECT_GE(fast.Percentile(0.91).count(), 1000000 * 0.99);
}

}  // namespace
}  // namespace quarry::bench
