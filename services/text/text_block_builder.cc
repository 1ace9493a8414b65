#include "services/text/text_block_builder.h"

#include "absl/strings/str_split.h"

namespace quarry::text {
namespace {

bool IsAsciiSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

}  // namespace

std::string CollapseWhitespace(absl::string_view text) {
  std::string collapsed;
  collapsed.reserve(text.size());
  bool pending_space = false;
  for (size_t i = 0; i < text.size(); ++i) {
    // U+00A0 NO-BREAK SPACE is C2 A0; `&nbsp;` in HTML decodes to it.
    const bool no_break_space = text[i] == '\xC2' && i + 1 < text.size() && text[i + 1] == '\xA0';
    if (IsAsciiSpace(text[i]) || no_break_space) {
      pending_space = true;
      if (no_break_space) ++i;
      continue;
    }
    if (pending_space && !collapsed.empty()) collapsed.push_back(' ');
    pending_space = false;
    collapsed.push_back(text[i]);
  }
  return collapsed;
}

void TextBlockBuilder::AddHeading(int level, absl::string_view text) {
  while (!open_headings_.empty() && open_headings_.back().first >= level) {
    open_headings_.pop_back();
  }
  std::string heading = CollapseWhitespace(text);
  if (heading.empty()) return;
  if (level == 1 && first_top_heading_.empty()) first_top_heading_ = heading;
  open_headings_.emplace_back(level, std::move(heading));
}

void TextBlockBuilder::AddParagraph(absl::string_view text) { Add(CollapseWhitespace(text)); }

void TextBlockBuilder::AddVerbatim(absl::string_view text) {
  std::vector<absl::string_view> lines = absl::StrSplit(text, '\n');
  for (absl::string_view& line : lines) {
    while (!line.empty() && IsAsciiSpace(line.back())) line.remove_suffix(1);
  }
  while (!lines.empty() && lines.back().empty()) lines.pop_back();
  size_t first = 0;
  while (first < lines.size() && lines[first].empty()) ++first;

  std::string kept;
  for (size_t i = first; i < lines.size(); ++i) {
    if (i > first) kept.push_back('\n');
    kept.append(lines[i].data(), lines[i].size());
  }
  Add(std::move(kept));
}

void TextBlockBuilder::Add(std::string text) {
  if (text.empty()) return;
  TextBlock block;
  block.heading_path.reserve(open_headings_.size());
  for (const auto& [level, heading] : open_headings_) block.heading_path.push_back(heading);
  block.text = std::move(text);
  block.page = page_;
  blocks_.push_back(std::move(block));
}

}  // namespace quarry::text
