#include "services/answer/prompt_packer.h"

#include <gtest/gtest.h>

#include <memory>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "services/answer/chat_format.h"

namespace quarry::answer {
namespace {

std::unique_ptr<text::Tokenizer> LoadTokenizer(const std::string& encoding) {
  absl::StatusOr<std::unique_ptr<text::Tokenizer>> tokenizer = text::Tokenizer::Create(encoding);
  EXPECT_TRUE(tokenizer.ok()) << tokenizer.status();
  return tokenizer.ok() ? *std::move(tokenizer) : nullptr;
}

Passage MakePassage(const std::string& id, const std::string& text, float score) {
  return {id, std::hash<std::string>{}(id), "Title of " + id, "file:///docs/" + id, text, score};
}

std::string Sentences(int count, const std::string& topic) {
  std::string text;
  for (int i = 0; i < count; ++i) {
    absl::StrAppend(&text, "Sentence ", i, " says how ", topic, " behaves when the load grows. ");
  }
  return text;
}

class PromptPackerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    tokenizer_ = LoadTokenizer("cl100k_base");
    ASSERT_NE(tokenizer_, nullptr);
  }

  absl::StatusOr<PackedPrompt> Pack(const std::vector<Passage>& passages, size_t budget,
                                    const PackingOptions& options = {},
                                    const std::string& question = "How does vacuum work?") {
    PromptPacker packer(&template_, options);
    return packer.Pack(*tokenizer_, question, passages, budget);
  }

  // What the instruction and question cost with no sources.
  size_t FixedTokens(const std::string& question = "How does vacuum work?") {
    absl::StatusOr<PackedPrompt> empty = Pack({}, 100000, {}, question);
    EXPECT_TRUE(empty.ok());
    return empty->prompt_tokens;
  }

  PromptTemplate template_;
  std::unique_ptr<text::Tokenizer> tokenizer_;
};

TEST_F(PromptPackerTest, PacksInRankOrderWithNumberedSourcesAndAnExactCount) {
  std::vector<Passage> passages = {MakePassage("a", "VACUUM reclaims storage.", 0.9f),
                                   MakePassage("b", "ANALYZE collects statistics.", 0.8f),
                                   MakePassage("c", "  CLUSTER reorders a table.\n", 0.7f)};
  absl::StatusOr<PackedPrompt> packed = Pack(passages, 4000);
  ASSERT_TRUE(packed.ok()) << packed.status();

  ASSERT_EQ(packed->sources.size(), 3u);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(packed->sources[i].passage, static_cast<size_t>(i));
    EXPECT_EQ(packed->sources[i].citation, i + 1);
    EXPECT_FALSE(packed->sources[i].truncated);
  }
  EXPECT_EQ(packed->sources[2].text, "CLUSTER reorders a table.");
  EXPECT_TRUE(packed->dropped.empty());

  ASSERT_EQ(packed->messages.size(), 2u);
  EXPECT_EQ(packed->messages[0].role, "system");
  EXPECT_EQ(packed->messages[0].content, template_.system_instruction());
  EXPECT_EQ(packed->messages[1].role, "user");
  EXPECT_EQ(packed->messages[1].content,
            "Sources:\n\n"
            "[1] Title of a — file:///docs/a\nVACUUM reclaims storage.\n\n"
            "[2] Title of b — file:///docs/b\nANALYZE collects statistics.\n\n"
            "[3] Title of c — file:///docs/c\nCLUSTER reorders a table.\n\n"
            "Question: How does vacuum work?");
  EXPECT_EQ(packed->prompt_tokens, CountChatTokens(*tokenizer_, packed->messages));
  EXPECT_EQ(packed->budget, 4000u);
}

TEST_F(PromptPackerTest, RefusesABudgetBelowTheInstructionAndQuestion) {
  const size_t fixed = FixedTokens();
  absl::StatusOr<PackedPrompt> packed = Pack({MakePassage("a", "text", 1)}, fixed - 1);
  ASSERT_FALSE(packed.ok());
  EXPECT_TRUE(absl::IsInvalidArgument(packed.status()));
  EXPECT_TRUE(
      absl::StrContains(packed.status().message(), absl::StrCat("alone take ", fixed, " tokens")))
      << packed.status();

  absl::StatusOr<PackedPrompt> exact = Pack({MakePassage("a", "text", 1)}, fixed);
  ASSERT_TRUE(exact.ok());
  EXPECT_TRUE(exact->sources.empty());
  ASSERT_EQ(exact->dropped.size(), 1u);
  EXPECT_EQ(exact->dropped[0].reason, DropReason::kOverBudget);
}

TEST_F(PromptPackerTest, RefusesAnEmptyQuestion) {
  absl::StatusOr<PackedPrompt> packed = Pack({}, 1000, {}, " \n\t");
  EXPECT_TRUE(absl::IsInvalidArgument(packed.status())) << packed.status();
}

TEST_F(PromptPackerTest, SkipsAPassageThatDoesNotFitForALaterOneThatDoes) {
  PackingOptions options;
  options.min_cut_tokens = 100000;  // never cut
  std::vector<Passage> passages = {MakePassage("long", Sentences(40, "autovacuum"), 0.9f),
                                   MakePassage("short", "Short answer here.", 0.5f)};
  const size_t budget = FixedTokens() + 40;
  absl::StatusOr<PackedPrompt> packed = Pack(passages, budget, options);
  ASSERT_TRUE(packed.ok()) << packed.status();
  ASSERT_EQ(packed->sources.size(), 1u);
  EXPECT_EQ(packed->sources[0].passage, 1u);
  EXPECT_EQ(packed->sources[0].citation, 1);
  ASSERT_EQ(packed->dropped.size(), 1u);
  EXPECT_EQ(packed->dropped[0].passage, 0u);
  EXPECT_EQ(packed->dropped[0].reason, DropReason::kOverBudget);
  EXPECT_LE(packed->prompt_tokens, budget);
}

TEST_F(PromptPackerTest, CutsAtASentenceBoundaryWhenEnoughRoomRemains) {
  PackingOptions options;
  options.min_cut_tokens = 20;
  const std::string text = Sentences(40, "autovacuum");
  const size_t budget = FixedTokens() + 80;
  absl::StatusOr<PackedPrompt> packed = Pack({MakePassage("long", text, 0.9f)}, budget, options);
  ASSERT_TRUE(packed.ok()) << packed.status();
  ASSERT_EQ(packed->sources.size(), 1u);
  const PackedSource& source = packed->sources[0];
  EXPECT_TRUE(source.truncated);
  EXPECT_TRUE(absl::StartsWith(text, source.text));
  EXPECT_TRUE(absl::EndsWith(source.text, "grows.")) << source.text;
  EXPECT_LE(packed->prompt_tokens, budget);
  // One more sentence would not have fitted.
  const size_t next = text.find("Sentence", source.text.size());
  ASSERT_NE(next, std::string::npos);
  const std::string longer = text.substr(0, text.find(". ", next) + 1);
  absl::StatusOr<PackedPrompt> whole = Pack({MakePassage("long", longer, 0.9f)}, 100000, options);
  ASSERT_TRUE(whole.ok());
  EXPECT_GT(whole->prompt_tokens, budget);
}

TEST_F(PromptPackerTest, DropsNearDuplicatesNamingThePassageTheyRepeat) {
  const std::string text = Sentences(6, "checkpointing");
  std::vector<Passage> passages = {MakePassage("a", text, 0.9f),
                                   MakePassage("b", "Unrelated words about replication.", 0.8f),
                                   MakePassage("a-copy", text + " One more remark.", 0.7f)};
  absl::StatusOr<PackedPrompt> packed = Pack(passages, 4000);
  ASSERT_TRUE(packed.ok());
  ASSERT_EQ(packed->sources.size(), 2u);
  ASSERT_EQ(packed->dropped.size(), 1u);
  EXPECT_EQ(packed->dropped[0].passage, 2u);
  EXPECT_EQ(packed->dropped[0].reason, DropReason::kDuplicate);
  EXPECT_EQ(packed->dropped[0].duplicate_of, 1);

  PackingOptions keep_all;
  keep_all.duplicate_threshold = 1.5;
  packed = Pack(passages, 4000, keep_all);
  ASSERT_TRUE(packed.ok());
  EXPECT_EQ(packed->sources.size(), 3u);
}

TEST_F(PromptPackerTest, DropsPassagesBelowTheScoreThreshold) {
  PackingOptions options;
  options.min_score = 0.5f;
  std::vector<Passage> passages = {MakePassage("a", "Good passage.", 0.9f),
                                   MakePassage("b", "Weak passage.", 0.2f)};
  absl::StatusOr<PackedPrompt> packed = Pack(passages, 4000, options);
  ASSERT_TRUE(packed.ok());
  ASSERT_EQ(packed->sources.size(), 1u);
  ASSERT_EQ(packed->dropped.size(), 1u);
  EXPECT_EQ(packed->dropped[0].passage, 1u);
  EXPECT_EQ(packed->dropped[0].reason, DropReason::kBelowScoreThreshold);
}

TEST_F(PromptPackerTest, MmrPutsADifferentPassageBeforeASimilarOne) {
  const std::string text = Sentences(6, "checkpointing");
  std::vector<Passage> passages = {
      MakePassage("a", text, 0.90f), MakePassage("a-like", text + " Also this.", 0.89f),
      MakePassage("other", "Replication ships the write-ahead log to standbys.", 0.50f)};
  PackingOptions options;
  options.duplicate_threshold = 1.5;  // keep the similar one, only reorder
  options.mmr = true;
  options.mmr_lambda = 0.5;
  absl::StatusOr<PackedPrompt> packed = Pack(passages, 4000, options);
  ASSERT_TRUE(packed.ok());
  ASSERT_EQ(packed->sources.size(), 3u);
  EXPECT_EQ(packed->sources[0].passage, 0u);
  EXPECT_EQ(packed->sources[1].passage, 2u);
  EXPECT_EQ(packed->sources[2].passage, 1u);
}

// Random words of English and Chinese, with digits, punctuation and line breaks, and the
// characters most likely to make a token span two parts of the prompt: slashes and closing
// brackets (which pre-split joins to following line breaks), Unicode white space, emoji and
// ill-formed UTF-8.
std::string RandomText(std::mt19937& random, int words) {
  static const std::vector<std::string> kWords = {
      "the",      "vacuum",   "index",      "table",  "lock", "replica",
      "shard",    "token",    "budget",     "数据",   "备份", "索引",
      "恢复",     "服务器",   "查询",       "2024",   "42",   "x86_64",
      "don't",    "C++",      "née",        "façade", "—",    "(see",
      "below)",   "/usr/lib", "\"quoted\"", "/",      ")",    "]",
      "\u3000",   "\u00a0",   "\u2028",     "\r\n",   "🙂", "👨‍👩‍👧",
      "\xFF\xE4", "1234567",  "'s",         "、",     "\t",   "[1]"};
  static const std::vector<std::string> kEnds = {". ", "。", "! ", "? ", "\n", "\n\n", ", ", " "};
  std::string text;
  for (int i = 0; i < words; ++i) {
    text += kWords[random() % kWords.size()];
    text += (random() % 6 == 0) ? kEnds[random() % kEnds.size()] : " ";
  }
  // End on any word, not only on white space.
  if (words > 0 && random() % 2 == 0) text += kWords[random() % kWords.size()];
  return text;
}

TEST(PromptPackerProperty, NeverExceedsTheBudgetForEitherEncoding) {
  for (const std::string encoding : {"cl100k_base", "o200k_base"}) {
    std::unique_ptr<text::Tokenizer> tokenizer = LoadTokenizer(encoding);
    ASSERT_NE(tokenizer, nullptr);
    std::mt19937 random(20240611);
    PromptTemplate prompt_template;
    for (int trial = 0; trial < 500; ++trial) {
      const std::string question = RandomText(random, 1 + random() % 30);
      std::vector<Passage> passages;
      const int count = random() % 25;
      for (int i = 0; i < count; ++i) {
        Passage passage = MakePassage(absl::StrCat("doc", i), RandomText(random, random() % 300),
                                      1.0f - i * 0.01f);
        if (random() % 5 == 0) passage.title = RandomText(random, 3);
        if (random() % 7 == 0) passage.source.clear();
        passages.push_back(std::move(passage));
      }
      PackingOptions options;
      options.min_cut_tokens = random() % 100;
      options.mmr = random() % 3 == 0;
      const size_t budget = 30 + random() % 3000;

      PromptPacker packer(&prompt_template, options);
      absl::StatusOr<PackedPrompt> packed = packer.Pack(*tokenizer, question, passages, budget);
      if (!packed.ok()) {
        if (absl::StripAsciiWhitespace(question).empty()) continue;
        ASSERT_TRUE(absl::IsInvalidArgument(packed.status())) << packed.status();
        ASSERT_TRUE(absl::StrContains(packed.status().message(), "too small"));
        continue;
      }
      const size_t exact = CountChatTokens(*tokenizer, packed->messages);
      ASSERT_EQ(packed->prompt_tokens, exact) << encoding << " trial " << trial;
      ASSERT_LE(exact, budget) << encoding << " trial " << trial;

      // The blocks' own counts add up to the whole message, as the template promises.
      const std::vector<ChatMessage> empty_prompt = {
          packed->messages[0],
          {"user",
           absl::StrCat(PromptTemplate::SourcesPreamble(),
                        PromptTemplate::QuestionPart(absl::StripAsciiWhitespace(question)))}};
      size_t parts = CountChatTokens(*tokenizer, empty_prompt);
      for (const PackedSource& source : packed->sources) parts += source.tokens;
      ASSERT_EQ(parts, exact) << encoding << " trial " << trial;
      ASSERT_EQ(
          packed->sources.size() + packed->dropped.size(),
          static_cast<size_t>(std::count_if(passages.begin(), passages.end(), [](const Passage& p) {
            return !absl::StripAsciiWhitespace(p.text).empty();
          })));
    }
  }
}

}  // namespace
}  // namespace quarry::answer
