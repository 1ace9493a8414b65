#include "services/text/chunker.h"

#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"

namespace quarry::text {
namespace {

class ChunkerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<Tokenizer>> tokenizer = Tokenizer::Create("cl100k_base");
    ASSERT_TRUE(tokenizer.ok()) << tokenizer.status();
    tokenizer_ = *std::move(tokenizer);
  }

  std::vector<TextChunk> Chunk(const std::vector<TextBlock>& blocks, size_t target, size_t overlap,
                               size_t min_section = 0) {
    Chunker chunker(tokenizer_.get(), {target, overlap, min_section});
    return chunker.Chunk(blocks);
  }

  std::unique_ptr<Tokenizer> tokenizer_;
};

std::string Sentences(int n, const std::string& topic) {
  std::string text;
  for (int i = 0; i < n; ++i) {
    absl::StrAppend(&text, "Sentence ", i, " explains how ", topic,
                    " behaves under concurrent load. ");
  }
  return text;
}

TEST_F(ChunkerTest, SmallParagraphsShareAChunkAndKeepTheirHeadings) {
  std::vector<TextBlock> blocks = {{{"Guide", "Vacuum"}, "VACUUM reclaims storage.", 0},
                                   {{"Guide", "Vacuum"}, "FULL rewrites the table.", 0},
                                   {{"Guide", "Indexes"}, "CREATE INDEX builds an index.", 0}};
  std::vector<TextChunk> chunks = Chunk(blocks, 300, 50);
  ASSERT_EQ(chunks.size(), 2u);
  EXPECT_EQ(chunks[0].text, "VACUUM reclaims storage.\n\nFULL rewrites the table.");
  EXPECT_EQ(chunks[0].heading_path, (std::vector<std::string>{"Guide", "Vacuum"}));
  EXPECT_EQ(chunks[1].heading_path, (std::vector<std::string>{"Guide", "Indexes"}));
  EXPECT_EQ(chunks[1].token_count, tokenizer_->Count(chunks[1].text));
}

TEST_F(ChunkerTest, TinySectionsJoinTheirNeighboursUnderTheHeadingsTheyShare) {
  std::vector<TextBlock> blocks = {
      {{"LOCK", "Name"}, "LOCK — lock a table", 0},
      {{"LOCK", "Synopsis"}, "LOCK [ TABLE ] [ ONLY ] name [ IN lockmode MODE ] [ NOWAIT ]", 0},
      {{"LOCK", "Description"}, Sentences(3, "an explicit table lock"), 0}};
  std::vector<TextChunk> chunks = Chunk(blocks, 300, 50, 40);
  ASSERT_EQ(chunks.size(), 1u);
  EXPECT_EQ(chunks[0].text,
            "LOCK — lock a table\n\nSynopsis\n\nLOCK [ TABLE ] [ ONLY ] name [ IN lockmode MODE ] "
            "[ NOWAIT ]\n\nDescription\n\n" +
                Sentences(3, "an explicit table lock"));
  EXPECT_EQ(chunks[0].heading_path, (std::vector<std::string>{"LOCK"}));
  EXPECT_EQ(chunks[0].token_count, tokenizer_->Count(chunks[0].text));
}

TEST_F(ChunkerTest, ATinyLastSectionJoinsTheOneBefore) {
  std::vector<TextBlock> blocks = {{{"VACUUM", "Notes"}, Sentences(4, "VACUUM FULL"), 0},
                                   {{"VACUUM", "See Also"}, "vacuumdb", 0}};
  std::vector<TextChunk> chunks = Chunk(blocks, 300, 50, 40);
  ASSERT_EQ(chunks.size(), 1u);
  EXPECT_EQ(chunks[0].text, Sentences(4, "VACUUM FULL") + "\n\nSee Also\n\nvacuumdb");
  EXPECT_EQ(chunks[0].heading_path, (std::vector<std::string>{"VACUUM"}));
}

TEST_F(ChunkerTest, SectionsAreJoinedOnlyWithinTheTarget) {
  // Each section alone is under the minimum, but two of them together exceed the target.
  std::vector<TextBlock> blocks = {{{"A"}, Sentences(2, "alpha"), 0},
                                   {{"B"}, Sentences(2, "beta"), 0},
                                   {{"C"}, Sentences(2, "gamma"), 0}};
  const size_t section = tokenizer_->Count(Sentences(2, "alpha"));
  std::vector<TextChunk> chunks = Chunk(blocks, section + 5, 0, section + 1);
  ASSERT_EQ(chunks.size(), 3u);
  for (const TextChunk& chunk : chunks) EXPECT_LE(chunk.token_count, section + 5);
  EXPECT_EQ(chunks[1].heading_path, (std::vector<std::string>{"B"}));
}

TEST_F(ChunkerTest, LongTextIsCutAtSentencesWithinTheTargetAndOverlaps) {
  std::vector<TextBlock> blocks = {{{}, Sentences(80, "autovacuum"), 0}};
  std::vector<TextChunk> chunks = Chunk(blocks, 100, 20);
  ASSERT_GT(chunks.size(), 5u);
  for (size_t i = 0; i < chunks.size(); ++i) {
    EXPECT_LE(chunks[i].token_count, 100u);
    EXPECT_EQ(chunks[i].token_count, tokenizer_->Count(chunks[i].text));
    EXPECT_EQ(chunks[i].text.rfind("Sentence ", 0), 0u) << "chunk " << i << " starts mid-sentence";
  }
  // Each chunk begins with the last sentence of the one before.
  for (size_t i = 1; i < chunks.size(); ++i) {
    const std::string& previous = chunks[i - 1].text;
    const std::string first_sentence = chunks[i].text.substr(0, chunks[i].text.find(". ") + 2);
    EXPECT_NE(previous.find(first_sentence), std::string::npos) << "no overlap at chunk " << i;
  }
  EXPECT_NE(chunks.back().text.find("Sentence 79 "), std::string::npos);
}

TEST_F(ChunkerTest, ChineseIsCutAtItsOwnSentenceEnds) {
  std::string text;
  for (int i = 0; i < 60; ++i) absl::StrAppend(&text, "数据库在第", i, "次检查点之后写入日志。");
  std::vector<TextChunk> chunks = Chunk({{{"手册"}, text, 0}}, 60, 10);
  ASSERT_GT(chunks.size(), 3u);
  for (const TextChunk& chunk : chunks) {
    EXPECT_LE(chunk.token_count, 60u);
    EXPECT_EQ(chunk.text.substr(chunk.text.size() - 3), "。") << chunk.text;
  }
}

TEST_F(ChunkerTest, AnUnbrokenRunIsCutByCharactersAndEmptyBlocksVanish) {
  std::vector<TextBlock> blocks = {{{}, "   \n", 0}, {{}, std::string(3000, 'x'), 0}};
  std::vector<TextChunk> chunks = Chunk(blocks, 50, 10);
  ASSERT_GT(chunks.size(), 1u);
  size_t total = 0;
  for (const TextChunk& chunk : chunks) {
    EXPECT_LE(chunk.token_count, 50u);
    total += chunk.text.size();
  }
  EXPECT_GE(total, 3000u);
  EXPECT_TRUE(Chunk({}, 50, 10).empty());
}

}  // namespace
}  // namespace quarry::text
