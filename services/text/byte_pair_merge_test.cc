#include "services/text/byte_pair_merge.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "services/text/tokenizer.h"

namespace quarry::text {
namespace {

using ::testing::ElementsAre;

// A table of all single bytes (ranks 0-255) and a few merges, ranked as listed from 256 up.
std::unique_ptr<RankTable> TableWithMerges(std::vector<std::string> merges) {
  std::string table;
  for (int byte = 0; byte < 256; ++byte) {
    const char single = static_cast<char>(byte);
    absl::StrAppend(&table, absl::Base64Escape(absl::string_view(&single, 1)), " ", byte, "\n");
  }
  for (size_t i = 0; i < merges.size(); ++i) {
    absl::StrAppend(&table, absl::Base64Escape(merges[i]), " ", 256 + i, "\n");
  }
  absl::StatusOr<std::unique_ptr<RankTable>> parsed = RankTable::Parse(table);
  EXPECT_TRUE(parsed.ok()) << parsed.status();
  return parsed.ok() ? *std::move(parsed) : nullptr;
}

std::vector<uint32_t> Encode(absl::string_view piece, const RankTable& ranks) {
  std::vector<uint32_t> ids;
  BytePairEncode(piece, ranks, &ids);
  return ids;
}

TEST(BytePairEncode, MergesTheLowestRankedPairFirst) {
  // "bc" (256) outranks "ab" (257), so "abc" becomes "a" + "bc", not "ab" + "c".
  std::unique_ptr<RankTable> ranks = TableWithMerges({"bc", "ab"});
  EXPECT_THAT(Encode("abc", *ranks), ElementsAre('a', 256));
}

TEST(BytePairEncode, BreaksTiesTowardsTheLeft) {
  std::unique_ptr<RankTable> ranks = TableWithMerges({"aa"});
  EXPECT_THAT(Encode("aaa", *ranks), ElementsAre(256, 'a'));
}

TEST(BytePairEncode, KeepsMergingIntoLongerTokens) {
  std::unique_ptr<RankTable> ranks = TableWithMerges({"ab", "cd", "abcd", "abcde"});
  EXPECT_THAT(Encode("abcdef", *ranks), ElementsAre(259, 'f'));
  EXPECT_THAT(Encode("x", *ranks), ElementsAre('x'));
}

// The scan and the priority queue must agree on every piece, with a real table and pieces
// built from its own tokens, which is where merges chain the most.
TEST(BytePairEncode, ScanAndQueueAgreeOnRandomPieces) {
  const std::string path = absl::StrCat(Tokenizer::DefaultDataDir(), "/cl100k_base.tiktoken");
  absl::StatusOr<std::unique_ptr<RankTable>> ranks = RankTable::Load(path);
  ASSERT_TRUE(ranks.ok()) << ranks.status() << " (scripts/bootstrap writes the tables)";

  std::mt19937 random(42);
  std::uniform_int_distribution<uint32_t> any_rank(0, 100255);
  std::uniform_int_distribution<int> any_byte(0, 255);
  for (int round = 0; round < 2000; ++round) {
    std::string piece;
    const size_t target = 1 + round % 300;
    while (piece.size() < target) {
      if (round % 5 == 0) {
        piece.push_back(static_cast<char>(any_byte(random)));
      } else {
        absl::StrAppend(&piece, (*ranks)->Bytes(any_rank(random)));
      }
    }
    std::vector<uint32_t> by_scan, by_queue;
    BytePairEncodeByScan(piece, **ranks, &by_scan);
    BytePairEncodeByQueue(piece, **ranks, &by_queue);
    ASSERT_EQ(by_scan, by_queue) << "piece " << absl::CHexEscape(piece);

    std::string decoded;
    for (uint32_t id : by_queue) absl::StrAppend(&decoded, (*ranks)->Bytes(id));
    ASSERT_EQ(decoded, piece);
  }
}

}  // namespace
}  // namespace quarry::text
