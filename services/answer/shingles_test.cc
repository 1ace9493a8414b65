#include "services/answer/shingles.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "services/answer/text_units.h"

namespace quarry::answer {
namespace {

TEST(TextUnits, LowerCasesWordsAndSplitsHanCharacters) {
  EXPECT_EQ(TextUnits("VACUUM Full, don't! Ünïcode 42"),
            (std::vector<std::string>{"vacuum", "full", "don", "t", "ünïcode", "42"}));
  EXPECT_EQ(TextUnits("备份ABC数据"), (std::vector<std::string>{"备", "份", "abc", "数", "据"}));
}

TEST(ShingleOverlap, IsOneForContainedTextAndLowForUnrelatedText) {
  const ShingleSet base = MakeShingles("the quick brown fox jumps over the lazy dog");
  const ShingleSet longer =
      MakeShingles("The quick brown fox jumps over the lazy dog, and then it sleeps.");
  const ShingleSet other = MakeShingles("replication ships the log to every standby server");
  EXPECT_DOUBLE_EQ(ShingleOverlap(base, longer), 1.0);
  EXPECT_LT(ShingleJaccard(base, longer), 1.0);
  EXPECT_DOUBLE_EQ(ShingleOverlap(base, other), 0.0);
  EXPECT_DOUBLE_EQ(ShingleOverlap(base, {}), 0.0);
  EXPECT_DOUBLE_EQ(ShingleJaccard({}, {}), 0.0);
}

TEST(MakeShingles, ShortTextHasOneShingle) {
  EXPECT_EQ(MakeShingles("two words").size(), 1u);
  EXPECT_TRUE(MakeShingles(" ... ").empty());
}

}  // namespace
}  // namespace quarry::answer
