#include "services/text/text_encoding.h"

#include <gtest/gtest.h>

#include <string>

namespace quarry::text {
namespace {

TEST(DeclaredHtmlCharset, FindsMetaAndXmlDeclarations) {
  EXPECT_EQ(DeclaredHtmlCharset("<html><head><META CharSet=\"Shift_JIS\">"), "shift_jis");
  EXPECT_EQ(DeclaredHtmlCharset(
                "<meta http-equiv='Content-Type' content='text/html; charset=windows-1251'>"),
            "windows-1251");
  EXPECT_EQ(DeclaredHtmlCharset("<?xml version=\"1.0\" encoding=\"ISO-8859-2\"?><html>"),
            "iso-8859-2");
  EXPECT_EQ(DeclaredHtmlCharset("<html><p>charset=koi8-r is only text</p>"), "");
  // Only the first 1024 bytes are looked at, as browsers do.
  EXPECT_EQ(DeclaredHtmlCharset(std::string(1024, ' ') + "<meta charset=gbk>"), "");
}

TEST(DecodeToUtf8, FollowsByteOrderMarksBeforeDeclarations) {
  EXPECT_EQ(DecodeToUtf8("\xEF\xBB\xBFplain", "windows-1252"), "plain");
  EXPECT_EQ(DecodeToUtf8(std::string("\xFE\xFF\0O\0K", 6), ""), "OK");
  EXPECT_EQ(DecodeToUtf8("caf\xE9", "windows-1252"), "caf\xC3\xA9");
  EXPECT_EQ(DecodeToUtf8("caf\xC3\xA9", "utf-8"), "caf\xC3\xA9");
  // A charset ICU does not know leaves the bytes alone.
  EXPECT_EQ(DecodeToUtf8("caf\xE9", "no-such-charset"), "caf\xE9");
}

TEST(RepairUtf8, CountsReplacedBytesNotCharacters) {
  size_t replaced = 0;
  EXPECT_EQ(RepairUtf8("fine \xEF\xBF\xBD already", &replaced), "fine \xEF\xBF\xBD already");
  EXPECT_EQ(replaced, 0u);
  // A truncated four-byte character: three bytes, one U+FFFD; then a lone continuation byte.
  EXPECT_EQ(RepairUtf8("\xEF\xBF\xBD\xF0\x9F\x91 \x80", &replaced),
            "\xEF\xBF\xBD\xEF\xBF\xBD \xEF\xBF\xBD");
  EXPECT_EQ(replaced, 4u);
}

}  // namespace
}  // namespace quarry::text
