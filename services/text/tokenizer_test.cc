#include "services/text/tokenizer.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <limits>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"

namespace quarry::text {
namespace {

using ::testing::ElementsAre;
using ::testing::ElementsAreArray;
using ::testing::IsEmpty;

// Ids below were produced by js-tiktoken 1.0.21, the reference the corpus test also uses.
class TokenizerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    for (const char* name : {"cl100k_base", "o200k_base"}) {
      absl::StatusOr<std::unique_ptr<Tokenizer>> tokenizer = Tokenizer::Create(name);
      ASSERT_TRUE(tokenizer.ok()) << tokenizer.status()
                                  << " (scripts/bootstrap writes the rank tables)";
      (std::string(name) == "cl100k_base" ? cl100k_ : o200k_) = std::move(*tokenizer).release();
    }
  }
  static void TearDownTestSuite() {
    delete cl100k_;
    delete o200k_;
  }

  static Tokenizer* cl100k_;
  static Tokenizer* o200k_;
};

Tokenizer* TokenizerTest::cl100k_ = nullptr;
Tokenizer* TokenizerTest::o200k_ = nullptr;

TEST_F(TokenizerTest, EncodesEmptyTextAsNoTokens) {
  EXPECT_THAT(cl100k_->Encode(""), IsEmpty());
  EXPECT_EQ(o200k_->Count(""), 0u);
}

TEST_F(TokenizerTest, EncodesWords) {
  EXPECT_THAT(cl100k_->Encode("hello world"), ElementsAre(15339, 1917));
  EXPECT_THAT(o200k_->Encode("hello world"), ElementsAre(24912, 2375));
}

TEST_F(TokenizerTest, EncodesRunsOfWhiteSpace) {
  EXPECT_THAT(cl100k_->Encode("a   b\n\n  c \t\n"),
              ElementsAre(64, 256, 293, 271, 220, 272, 17934));
  EXPECT_THAT(o200k_->Encode("a   b\n\n  c \t\n"), ElementsAre(64, 256, 287, 279, 220, 274, 43220));
  EXPECT_THAT(cl100k_->Encode("end   "), ElementsAre(408, 262));
  EXPECT_THAT(o200k_->Encode("end   "), ElementsAre(419, 271));
}

TEST_F(TokenizerTest, EncodesNumbersInGroupsOfThreeDigits) {
  EXPECT_THAT(cl100k_->Encode("12345678 3.14159 1,000,000"),
              ElementsAre(4513, 10961, 2495, 220, 18, 13, 9335, 2946, 220, 16, 11, 931, 11, 931));
  EXPECT_THAT(
      o200k_->Encode("12345678 3.14159 1,000,000"),
      ElementsAre(7633, 19354, 4388, 220, 18, 13, 16926, 4621, 220, 16, 11, 1302, 11, 1302));
}

TEST_F(TokenizerTest, EncodesContractions) {
  const std::string text = "I'm sure they'll say it's THEY'RE, we'd, you've";
  EXPECT_THAT(cl100k_->Encode(text), ElementsAre(40, 2846, 2771, 814, 3358, 2019, 433, 596, 63593,
                                                 95253, 11, 584, 4265, 11, 499, 3077));
  EXPECT_THAT(o200k_->Encode(text),
              ElementsAre(15390, 3239, 57956, 2891, 4275, 95381, 6, 1099, 11, 68530, 11, 19014));
}

TEST_F(TokenizerTest, EncodesEmoji) {
  const std::string text = "👋🏽 family 👨‍👩‍👧 ok";
  EXPECT_THAT(cl100k_->Encode(text),
              ElementsAre(9468, 239, 233, 9468, 237, 121, 3070, 62904, 101, 378, 235, 9468, 239,
                          102, 378, 235, 9468, 239, 100, 5509));
  EXPECT_THAT(o200k_->Encode(text), ElementsAre(28823, 233, 52622, 121, 3502, 61138, 101, 2524,
                                                28823, 102, 2524, 28823, 100, 4763));
}

TEST_F(TokenizerTest, EncodesChineseAndJapanese) {
  const std::string text = "你好，世界。東京は晴れ";
  EXPECT_THAT(cl100k_->Encode(text), ElementsAre(57668, 53901, 3922, 3574, 244, 98220, 1811, 14276,
                                                 109, 47653, 15682, 45114, 112, 33121));
  EXPECT_THAT(o200k_->Encode(text),
              ElementsAre(177519, 979, 28428, 788, 108713, 5205, 123139, 9472));
}

TEST_F(TokenizerTest, EncodesSpecialTokenTextAsOrdinaryText) {
  EXPECT_THAT(cl100k_->Encode("<|endoftext|>"), ElementsAre(27, 91, 8862, 728, 428, 91, 29));
  EXPECT_THAT(o200k_->Encode("<|endoftext|>"), ElementsAre(27, 91, 419, 1440, 919, 91, 29));
}

TEST_F(TokenizerTest, EncodesIllFormedUtf8AsReplacementCharacters) {
  // Each maximal ill-formed subpart ("\xFF", then the truncated "\xE4\xBD") becomes U+FFFD.
  EXPECT_THAT(cl100k_->Encode("abc\xFF\xE4\xBD"
                              "def"),
              ElementsAre(13997, 10178, 755));
  EXPECT_THAT(o200k_->Encode("abc\xFF\xE4\xBD"
                             "def"),
              ElementsAre(26682, 10123, 1314));
  EXPECT_THAT(o200k_->Encode("abc\xEF\xBF\xBD\xEF\xBF\xBD"
                             "def"),
              ElementsAreArray(o200k_->Encode("abc\xFF\xE4\xBD"
                                              "def")));
  EXPECT_EQ(cl100k_->Count("\xC0\x80\xED\xA0\x80\xF5"), cl100k_->Count("\xEF\xBF\xBD\xEF\xBF\xBD"
                                                                       "\xEF\xBF\xBD\xEF\xBF\xBD"
                                                                       "\xEF\xBF\xBD\xEF\xBF\xBD"));
}

TEST_F(TokenizerTest, CountsUpToALimit) {
  const std::string text =
      "<p class=\"x\">SELECT * FROM t;</p>\r\n  你好 👨‍👩‍👧 it's 3.14\t\n "
      "abc\xFF\xE4\xBD "
      "def "
      "supercalifragilisticexpialidocious";
  for (const Tokenizer* tokenizer : {cl100k_, o200k_}) {
    const size_t count = tokenizer->Count(text);
    ASSERT_GT(count, 20u);
    for (size_t limit = 0; limit <= count + 2; ++limit) {
      EXPECT_EQ(tokenizer->CountUpTo(text, limit), std::min(count, limit + 1))
          << tokenizer->encoding_name() << " limit " << limit;
    }
    EXPECT_EQ(tokenizer->CountUpTo(text, std::numeric_limits<size_t>::max()), count);
    EXPECT_EQ(tokenizer->CountUpTo("", 0), 0u);
  }
}

TEST_F(TokenizerTest, DecodesBackToTheText) {
  const std::string text =
      "<p class=\"x\">SELECT * FROM t;</p>\r\n  你好 👨‍👩‍👧 it's 3.14\t\n" +
      std::string(1, '\0');
  for (const Tokenizer* tokenizer : {cl100k_, o200k_}) {
    absl::StatusOr<std::string> decoded = tokenizer->Decode(tokenizer->Encode(text));
    ASSERT_TRUE(decoded.ok()) << decoded.status();
    EXPECT_EQ(*decoded, text);
  }
}

TEST_F(TokenizerTest, RefusesToDecodeUnknownIds) {
  const std::vector<uint32_t> ids = {15339, 100257};  // 100257 is <|endoftext|>, not ordinary
  absl::StatusOr<std::string> decoded = cl100k_->Decode(ids);
  EXPECT_EQ(decoded.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(decoded.status().message().find("100257"), absl::string_view::npos);
}

TEST_F(TokenizerTest, EncodesLongRunsAndLongWords) {
  const std::string spaces(1 << 20, ' ');
  const std::string word(1 << 16, 'z');
  const std::string han = [] {
    std::string text;
    for (int i = 0; i < 20000; ++i) text += "的是";
    return text;
  }();
  for (const Tokenizer* tokenizer : {cl100k_, o200k_}) {
    for (const std::string& text : {spaces, word, han}) {
      std::vector<uint32_t> ids = tokenizer->Encode(text);
      EXPECT_LT(ids.size(), text.size());
      EXPECT_EQ(tokenizer->Decode(ids).value_or(""), text);
    }
  }
}

TEST_F(TokenizerTest, GivesTheSameIdsOnManyThreadsAtOnce) {
  std::string text;
  for (int i = 0; i < 200; ++i) {
    absl::StrAppend(&text, "Paragraph ", i, ": the quick brown fox, 速い茶色の狐, jumps. ");
  }
  const std::vector<uint32_t> expected = o200k_->Encode(text);
  std::vector<std::thread> threads;
  std::vector<int> mismatches(8, 0);
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int round = 0; round < 20; ++round) mismatches[t] += o200k_->Encode(text) != expected;
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_THAT(mismatches, ::testing::Each(0));
}

TEST(Tokenizer, RejectsAnUnknownEncoding) {
  absl::StatusOr<std::unique_ptr<Tokenizer>> tokenizer = Tokenizer::Create("p99k_base");
  EXPECT_EQ(tokenizer.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(tokenizer.status().message().find("cl100k_base"), absl::string_view::npos);
}

TEST(Tokenizer, ReportsAMissingRankTable) {
  absl::StatusOr<std::unique_ptr<Tokenizer>> tokenizer =
      Tokenizer::Create("cl100k_base", "/nonexistent/quarry");
  EXPECT_EQ(tokenizer.status().code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace quarry::text
