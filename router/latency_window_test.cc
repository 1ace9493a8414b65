#include "router/latency_window.h"

#include <gtest/gtest.h>

namespace quarry::router {
namespace {

using std::chrono::microseconds;

TEST(LatencyWindow, FallsBackUntilEnoughSamples) {
  LatencyWindow window(100);
  for (int i = 0; i < 19; ++i) window.Record(microseconds(100));
  EXPECT_EQ(window.Quantile(0.95, microseconds(7)), microseconds(7));
  window.Record(microseconds(100));
  EXPECT_EQ(window.Quantile(0.95, microseconds(7)), microseconds(100));
}

TEST(LatencyWindow, QuantilesUseNearestRankOverRecentSamples) {
  LatencyWindow window(100);
  for (int i = 1; i <= 100; ++i) window.Record(microseconds(i));
  EXPECT_EQ(window.Quantile(0.5, microseconds(0)), microseconds(50));
  EXPECT_EQ(window.Quantile(0.95, microseconds(0)), microseconds(95));
  EXPECT_EQ(window.Quantile(1.0, microseconds(0)), microseconds(100));
  // Newer samples push the oldest out.
  for (int i = 0; i < 100; ++i) window.Record(microseconds(1000));
  EXPECT_EQ(window.Quantile(0.5, microseconds(0)), microseconds(1000));
  EXPECT_EQ(window.size(), 100u);
}

}  // namespace
}  // namespace quarry::router
