#include "services/answer/sentences.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace quarry::answer {
namespace {

TEST(SplitSentences, FindsEnglishAndChineseSentences) {
  EXPECT_EQ(SplitSentences("VACUUM reclaims space. It can run online! Does it lock?  "),
            (std::vector<absl::string_view>{"VACUUM reclaims space.", "It can run online!",
                                            "Does it lock?"}));
  EXPECT_EQ(SplitSentences("定期备份数据库。恢复时先停止服务！"),
            (std::vector<absl::string_view>{"定期备份数据库。", "恢复时先停止服务！"}));
  EXPECT_TRUE(SplitSentences("").empty());
}

TEST(SentenceEnds, EndsAtTheTextsEndAndKeepsTrailingSpace) {
  const std::string text = "One. Two";
  EXPECT_EQ(SentenceEnds(text), (std::vector<size_t>{5, 8}));
}

}  // namespace
}  // namespace quarry::answer
