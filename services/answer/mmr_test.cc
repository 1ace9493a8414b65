#include "services/answer/mmr.h"

#include <gtest/gtest.h>

#include <vector>

namespace quarry::answer {
namespace {

TEST(MmrOrder, LambdaOneKeepsTheScoreOrder) {
  const ShingleSet a = MakeShingles("one two three four");
  const ShingleSet b = MakeShingles("one two three four five");
  const ShingleSet c = MakeShingles("entirely different words here");
  EXPECT_EQ(MmrOrder({0.9f, 0.8f, 0.1f}, {&a, &b, &c}, 1.0), (std::vector<size_t>{0, 1, 2}));
}

TEST(MmrOrder, PrefersADiverseCandidateOverANearCopy) {
  const ShingleSet a = MakeShingles("one two three four");
  const ShingleSet b = MakeShingles("one two three four five");
  const ShingleSet c = MakeShingles("entirely different words here");
  EXPECT_EQ(MmrOrder({0.9f, 0.8f, 0.5f}, {&a, &b, &c}, 0.5), (std::vector<size_t>{0, 2, 1}));
  EXPECT_TRUE(MmrOrder({}, {}, 0.5).empty());
}

}  // namespace
}  // namespace quarry::answer
