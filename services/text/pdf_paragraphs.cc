#include "services/text/pdf_paragraphs.h"

#include <algorithm>
#include <cstdint>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/string_view.h"

namespace quarry::text {
namespace {

// A gap between lines wider than this fraction of the line height separates paragraphs.
constexpr double kParagraphGap = 0.5;
// A line that ends this many line heights short of the column's right edge ends a paragraph,
// when it ends a sentence too.
constexpr double kShortLine = 2.0;

constexpr absl::string_view kBullets[] = {"\xE2\x80\xA2", "\xE2\x97\xA6", "\xE2\x96\xAA",
                                          "\xE2\x80\xA3", "\xE2\x81\x83", "\xC2\xB7"};

struct Line {
  std::string text;
  double left, top, right, bottom;
  double height() const { return bottom - top; }
};

std::vector<Line> GroupIntoLines(const std::vector<PlacedWord>& words) {
  std::vector<Line> lines;
  const PlacedWord* previous = nullptr;
  for (const PlacedWord& word : words) {
    const double middle = (word.top + word.bottom) / 2;
    const bool same_line = previous != nullptr && middle >= previous->top &&
                           middle <= previous->bottom && word.left >= previous->left;
    if (!same_line) {
      lines.push_back({"", word.left, word.top, word.right, word.bottom});
    } else if (previous->space_after) {
      lines.back().text.push_back(' ');
    }
    Line& line = lines.back();
    line.text += word.text;
    line.left = std::min(line.left, word.left);
    line.top = std::min(line.top, word.top);
    line.right = std::max(line.right, word.right);
    line.bottom = std::max(line.bottom, word.bottom);
    previous = &word;
  }
  return lines;
}

// True when the UTF-8 character at `text[at]` is in U+2E80..U+D7FF: the CJK scripts and their
// punctuation, Yi and Hangul, whose lines join without a space.
bool IsCjkLead(absl::string_view text, size_t at) {
  if (at >= text.size()) return false;
  const auto lead = static_cast<uint8_t>(text[at]);
  return lead >= 0xE2 && lead <= 0xED &&
         !(lead == 0xE2 && (at + 1 >= text.size() || static_cast<uint8_t>(text[at + 1]) < 0xBA));
}

// The byte index where the last UTF-8 character of non-empty `text` starts.
size_t LastCharacterStart(absl::string_view text) {
  size_t at = text.size() - 1;
  while (at > 0 && (static_cast<uint8_t>(text[at]) & 0xC0) == 0x80) --at;
  return at;
}

bool EndsSentence(absl::string_view text) {
  return absl::EndsWith(text, ".") || absl::EndsWith(text, ":") || absl::EndsWith(text, "!") ||
         absl::EndsWith(text, "?") || absl::EndsWith(text, "\xE3\x80\x82") ||           // 。
         absl::EndsWith(text, "\xEF\xBC\x9A") ||                                        // ：
         absl::EndsWith(text, "\xEF\xBC\x81") || absl::EndsWith(text, "\xEF\xBC\x9F");  // ！？
}

bool StartsWithBullet(absl::string_view text) {
  for (absl::string_view bullet : kBullets) {
    if (absl::StartsWith(text, bullet)) return true;
  }
  return false;
}

bool StartsParagraph(const Line& previous, const Line& line, double column_right) {
  const double height = std::max(previous.height(), line.height());
  if (line.top - previous.bottom > kParagraphGap * height) return true;
  if (line.bottom < previous.top) return true;
  if (StartsWithBullet(line.text)) return true;
  return EndsSentence(previous.text) && previous.right < column_right - kShortLine * height;
}

// Appends `line` to the paragraph `text`, choosing what joins them.
void AppendLine(const std::string& line, std::string* text) {
  if (text->empty()) {
    *text = line;
    return;
  }
  const size_t last = LastCharacterStart(*text);
  const bool hyphenated = text->back() == '-' && text->size() >= 2 &&
                          absl::ascii_isalpha((*text)[text->size() - 2]) && !line.empty() &&
                          absl::ascii_islower(line[0]);
  if (!hyphenated && !IsCjkLead(*text, last) && !IsCjkLead(line, 0)) text->push_back(' ');
  *text += line;
}

}  // namespace

std::vector<std::string> GroupIntoParagraphs(const std::vector<PlacedWord>& words) {
  const std::vector<Line> lines = GroupIntoLines(words);
  double column_right = 0;
  for (const Line& line : lines) column_right = std::max(column_right, line.right);

  std::vector<std::string> paragraphs;
  for (size_t i = 0; i < lines.size(); ++i) {
    if (i == 0 || StartsParagraph(lines[i - 1], lines[i], column_right)) {
      paragraphs.emplace_back();
    }
    AppendLine(lines[i].text, &paragraphs.back());
  }
  return paragraphs;
}

}  // namespace quarry::text
