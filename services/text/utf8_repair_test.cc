#include "services/text/utf8_repair.h"

#include <gtest/gtest.h>

#include <string>

namespace quarry::text {
namespace {

constexpr char kReplacement[] = "\xEF\xBF\xBD";

TEST(WellFormedUtf8Prefix, AcceptsAsciiAndMultibyteCharacters) {
  const std::string text = "plain ASCII, caf\xC3\xA9, \xE4\xBD\xA0\xE5\xA5\xBD, \xF0\x9F\x91\x8B";
  EXPECT_EQ(WellFormedUtf8Prefix(text), text.size());
  EXPECT_EQ(WellFormedUtf8Prefix(""), 0u);
}

TEST(WellFormedUtf8Prefix, StopsAtTheFirstIllFormedByte) {
  EXPECT_EQ(WellFormedUtf8Prefix("abcdefghij\xFFxyz"), 10u);
  EXPECT_EQ(WellFormedUtf8Prefix("ab\xE4\xBD"), 2u);            // truncated character
  EXPECT_EQ(WellFormedUtf8Prefix("\xC0\xAF"), 0u);              // overlong '/'
  EXPECT_EQ(WellFormedUtf8Prefix("\xED\xA0\x80"), 0u);          // surrogate U+D800
  EXPECT_EQ(WellFormedUtf8Prefix("\xF4\x90\x80\x80"), 0u);      // above U+10FFFF
  EXPECT_EQ(WellFormedUtf8Prefix(std::string("a\0b", 3)), 3u);  // NUL is a character
}

TEST(ReplaceIllFormedUtf8, LeavesWellFormedTextAlone) {
  const std::string text = "caf\xC3\xA9 \xF0\x9F\x91\x8B";
  EXPECT_EQ(ReplaceIllFormedUtf8(text), text);
}

TEST(ReplaceIllFormedUtf8, ReplacesEachMaximalSubpartOnce) {
  // A truncated three-byte character is one subpart; a stray continuation byte is another.
  EXPECT_EQ(ReplaceIllFormedUtf8("a\xE4\xBD"
                                 "b"),
            std::string("a") + kReplacement + "b");
  EXPECT_EQ(ReplaceIllFormedUtf8("\x80\x80"), std::string(kReplacement) + kReplacement);
  // Bytes that can never start a character are replaced one by one.
  EXPECT_EQ(ReplaceIllFormedUtf8("\xC0\xAF"), std::string(kReplacement) + kReplacement);
  // A surrogate's lead cannot continue with A0, so each byte is its own subpart.
  EXPECT_EQ(ReplaceIllFormedUtf8("\xED\xA0\x80"),
            std::string(kReplacement) + kReplacement + kReplacement);
  // The byte that breaks a sequence starts the next character.
  EXPECT_EQ(ReplaceIllFormedUtf8("\xF0\x9F\x91"
                                 "A"),
            std::string(kReplacement) + "A");
  EXPECT_EQ(ReplaceIllFormedUtf8("\xE4\xC3\xA9"), std::string(kReplacement) + "\xC3\xA9");
}

}  // namespace
}  // namespace quarry::text
