#include "services/answer/extractive_answerer.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "absl/strings/match.h"

namespace quarry::answer {
namespace {

TEST(ExtractiveAnswerer, GivesTheBestMatchingSentencesWithTheirCitations) {
  const std::string vacuum =
      "VACUUM reclaims storage occupied by dead tuples. VACUUM FULL rewrites the table and "
      "takes an ACCESS EXCLUSIVE lock. It is slow.";
  const std::string index = "A partial index covers a subset of a table.";
  ExtractiveAnswerer answerer(1);
  const std::string answer =
      answerer.Answer("Which lock does VACUUM FULL take?", {{1, index}, {2, vacuum}});
  EXPECT_EQ(answer, "VACUUM FULL rewrites the table and takes an ACCESS EXCLUSIVE lock. [2]");
}

TEST(ExtractiveAnswerer, FindsChineseSentences) {
  const std::string backup =
      "定期备份数据库是防止数据丢失的最重要手段。恢复时先停止服务。天气很好。";
  ExtractiveAnswerer answerer(1);
  EXPECT_EQ(answerer.Answer("如何防止数据丢失", {{3, backup}}),
            "定期备份数据库是防止数据丢失的最重要手段。 [3]");
}

TEST(ExtractiveAnswerer, GivesEachSentenceOnceAndNothingWhenNothingMatches) {
  const std::string text = "Replicas copy the log. Replicas copy the log.";
  ExtractiveAnswerer answerer(3);
  const std::string answer = answerer.Answer("how do replicas copy", {{1, text}, {2, text}});
  EXPECT_EQ(answer, "Replicas copy the log. [1]");
  EXPECT_EQ(answerer.Answer("zebra", {{1, text}}), "");
  EXPECT_EQ(answerer.Answer("?!", {{1, text}}), "");
}

}  // namespace
}  // namespace quarry::answer
