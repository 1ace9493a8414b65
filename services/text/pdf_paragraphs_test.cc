#include "services/text/pdf_paragraphs.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace quarry::text {
namespace {

// Lays out one line of words at `top`, 12 points high, 6 points per byte, spaces between.
void AddLine(std::vector<PlacedWord>* words, double top, std::vector<std::string> texts,
             double left = 72) {
  for (size_t i = 0; i < texts.size(); ++i) {
    const double right = left + 6.0 * texts[i].size();
    words->push_back({texts[i], left, top, right, top + 12, i + 1 < texts.size()});
    left = right + 4;
  }
}

TEST(GroupIntoParagraphs, JoinsLinesAndSplitsOnVerticalGaps) {
  std::vector<PlacedWord> words;
  AddLine(&words, 100, {"The", "first", "paragraph", "runs", "over"});
  AddLine(&words, 114, {"two", "lines."});
  AddLine(&words, 150, {"A", "second", "paragraph."});
  EXPECT_EQ(GroupIntoParagraphs(words),
            (std::vector<std::string>{"The first paragraph runs over two lines.",
                                      "A second paragraph."}));
}

TEST(GroupIntoParagraphs, SplitsAtBulletsAndShortSentenceEnds) {
  std::vector<PlacedWord> words;
  AddLine(&words, 100, {"Options", "for", "the", "command", "are", "these:"});
  AddLine(&words, 114, {"\xE2\x80\xA2", "a", "port", "number", "for", "the", "server", "to"});
  AddLine(&words, 128, {"listen", "on,", "and"});
  AddLine(&words, 142, {"\xE2\x80\xA2", "a", "data", "directory."});
  AddLine(&words, 156, {"Short", "end."});
  AddLine(&words, 170, {"Next", "paragraph", "with", "no", "gap", "above", "it", "at", "all."});
  EXPECT_EQ(GroupIntoParagraphs(words),
            (std::vector<std::string>{"Options for the command are these:",
                                      "\xE2\x80\xA2 a port number for the server to listen on, and",
                                      "\xE2\x80\xA2 a data directory.", "Short end.",
                                      "Next paragraph with no gap above it at all."}));
}

TEST(GroupIntoParagraphs, JoinsHyphenatedWordsAndChineseLinesWithoutSpaces) {
  std::vector<PlacedWord> words;
  AddLine(&words, 100, {"Indexes", "are", "rebuilt", "from", "the", "data-"});
  AddLine(&words, 114, {"base", "on", "start."});
  AddLine(&words, 150, {"\xE7\xB4\xA2\xE5\xBC\x95\xE5\x9C\xA8"});  // 索引在
  AddLine(&words, 164, {"\xE5\x90\xAF\xE5\x8A\xA8\xE6\x97\xB6"});  // 启动时
  EXPECT_EQ(GroupIntoParagraphs(words),
            (std::vector<std::string>{"Indexes are rebuilt from the data-base on start.",
                                      "\xE7\xB4\xA2\xE5\xBC\x95\xE5\x9C\xA8\xE5\x90\xAF\xE5\x8A\xA8"
                                      "\xE6\x97\xB6"}));
}

}  // namespace
}  // namespace quarry::text
