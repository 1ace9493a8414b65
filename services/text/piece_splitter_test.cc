#include "services/text/piece_splitter.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "services/text/encodings.h"

namespace quarry::text {
namespace {

using ::testing::ElementsAre;

std::vector<std::string> Pieces(const PieceSplitter& splitter, absl::string_view text) {
  std::vector<std::string> pieces;
  absl::Status split = splitter.Split(text, [&](absl::string_view piece) {
    pieces.emplace_back(piece);
    return true;
  });
  EXPECT_TRUE(split.ok()) << split;
  return pieces;
}

std::unique_ptr<PieceSplitter> SplitterFor(absl::string_view encoding) {
  absl::StatusOr<std::unique_ptr<PieceSplitter>> splitter =
      PieceSplitter::Create(FindEncoding(encoding)->pattern);
  EXPECT_TRUE(splitter.ok()) << splitter.status();
  return splitter.ok() ? *std::move(splitter) : nullptr;
}

TEST(PieceSplitter, SplitsLikeTiktokenCl100k) {
  std::unique_ptr<PieceSplitter> splitter = SplitterFor("cl100k_base");
  EXPECT_THAT(Pieces(*splitter, "Hello, world! It's 12345 times\n\n  ok  "),
              ElementsAre("Hello", ",", " world", "!", " It", "'s", " ", "123", "45", " times",
                          "\n\n", " ", " ok", "  "));
}

TEST(PieceSplitter, SplitsLikeTiktokenO200k) {
  std::unique_ptr<PieceSplitter> splitter = SplitterFor("o200k_base");
  EXPECT_THAT(Pieces(*splitter, "HTTPServer isn't a/b/c"),
              ElementsAre("HTTPServer", " isn't", " a", "/b", "/c"));
}

TEST(PieceSplitter, TreatsUnicodeWhiteSpaceAsTiktokenDoes) {
  // U+3000 IDEOGRAPHIC SPACE is white space; U+FEFF (a byte order mark) is not.
  std::unique_ptr<PieceSplitter> splitter = SplitterFor("cl100k_base");
  EXPECT_THAT(Pieces(*splitter,
                     "a\xE3\x80\x80\xE3\x80\x80"
                     "b"),
              ElementsAre("a", "\xE3\x80\x80",
                          "\xE3\x80\x80"
                          "b"));
  EXPECT_THAT(Pieces(*splitter, "\xEF\xBB\xBFtext"), ElementsAre("\xEF\xBB\xBFtext"));
}

TEST(PieceSplitter, CoversLongRunsWithoutFailing) {
  std::unique_ptr<PieceSplitter> splitter = SplitterFor("o200k_base");
  const std::string spaces = std::string(4 << 20, ' ') + "x";
  std::vector<std::string> pieces = Pieces(*splitter, spaces);
  ASSERT_EQ(pieces.size(), 2u);
  EXPECT_EQ(pieces[0].size(), (4u << 20) - 1);
  EXPECT_EQ(pieces[1], " x");

  const std::string letters(4 << 20, 'a');
  EXPECT_THAT(Pieces(*splitter, letters), ElementsAre(letters));
}

TEST(PieceSplitter, StopsWhenTheCallerHasEnough) {
  std::unique_ptr<PieceSplitter> splitter = SplitterFor("cl100k_base");
  std::vector<std::string> pieces;
  absl::Status split = splitter->Split("one two three four", [&](absl::string_view piece) {
    pieces.emplace_back(piece);
    return pieces.size() < 2;
  });
  EXPECT_TRUE(split.ok()) << split;
  EXPECT_THAT(pieces, ElementsAre("one", " two"));
}

TEST(PieceSplitter, RejectsAPatternThatDoesNotCompile) {
  absl::StatusOr<std::unique_ptr<PieceSplitter>> splitter = PieceSplitter::Create("(unclosed");
  EXPECT_EQ(splitter.status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace quarry::text
