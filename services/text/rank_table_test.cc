#include "services/text/rank_table.h"

#include <gtest/gtest.h>

#include <string>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

namespace quarry::text {
namespace {

// A table with every single byte (ranks 0-255) plus the given extra lines.
std::string TableWithAllBytes(absl::string_view extra_lines) {
  std::string table;
  for (int byte = 0; byte < 256; ++byte) {
    const char single = static_cast<char>(byte);
    absl::StrAppend(&table, absl::Base64Escape(absl::string_view(&single, 1)), " ", byte, "\n");
  }
  return absl::StrCat(table, extra_lines);
}

TEST(RankTable, FindsTokensOfEveryLengthAndTheirBytes) {
  const std::string extra = absl::StrCat(absl::Base64Escape("ab"), " 300\n",            //
                                         absl::Base64Escape("abcd"), " 301\n",          //
                                         absl::Base64Escape("abcdefghijk"), " 302\n");  //
  absl::StatusOr<std::unique_ptr<RankTable>> table = RankTable::Parse(TableWithAllBytes(extra));
  ASSERT_TRUE(table.ok()) << table.status();

  EXPECT_EQ((*table)->size(), 259u);
  EXPECT_EQ((*table)->Find("a"), static_cast<uint32_t>('a'));
  EXPECT_EQ((*table)->Find(std::string(1, '\0')), 0u);
  EXPECT_EQ((*table)->Find("ab"), 300u);
  EXPECT_EQ((*table)->Find("abcd"), 301u);
  EXPECT_EQ((*table)->Find("abcdefghijk"), 302u);
  EXPECT_EQ((*table)->Find("abc"), RankTable::kNoRank);
  EXPECT_EQ((*table)->Find("abcdefghij"), RankTable::kNoRank);

  EXPECT_EQ((*table)->Bytes(301), "abcd");
  EXPECT_EQ((*table)->Bytes(299), "");  // a gap in the ranks
  EXPECT_EQ((*table)->Bytes(5000), "");
}

TEST(RankTable, TellsPackedKeysOfDifferentLengthsApart) {
  // "a" and "a\0" pack to the same bytes but differ in length.
  const std::string extra = absl::StrCat(absl::Base64Escape(std::string("a\0\0", 3)), " 400\n");
  absl::StatusOr<std::unique_ptr<RankTable>> table = RankTable::Parse(TableWithAllBytes(extra));
  ASSERT_TRUE(table.ok()) << table.status();
  EXPECT_EQ((*table)->Find(std::string("a\0\0", 3)), 400u);
  EXPECT_EQ((*table)->Find(std::string("a\0", 2)), RankTable::kNoRank);
  EXPECT_EQ((*table)->Find(std::string("a\0\0\0", 4)), RankTable::kNoRank);
}

TEST(RankTable, RejectsMalformedTables) {
  EXPECT_EQ(RankTable::Parse("").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(RankTable::Parse(TableWithAllBytes("!!! 300\n")).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(RankTable::Parse(TableWithAllBytes("YWI= x\n")).status().code(),
            absl::StatusCode::kInvalidArgument);

  absl::StatusOr<std::unique_ptr<RankTable>> repeated_rank =
      RankTable::Parse(TableWithAllBytes("YWI= 7\n"));
  EXPECT_EQ(repeated_rank.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(repeated_rank.status().message().find("rank 7"), absl::string_view::npos);

  EXPECT_EQ(RankTable::Parse(TableWithAllBytes("YWI= 300\nYWI= 301\n")).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(RankTable, RequiresEverySingleByte) {
  absl::StatusOr<std::unique_ptr<RankTable>> table = RankTable::Parse("YQ== 0\n");
  EXPECT_EQ(table.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(table.status().message().find("0x00"), absl::string_view::npos);
}

TEST(RankTable, LoadReportsAMissingFile) {
  EXPECT_EQ(RankTable::Load("/nonexistent/quarry/table.tiktoken").status().code(),
            absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace quarry::text
