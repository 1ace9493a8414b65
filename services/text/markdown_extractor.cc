#include "services/text/markdown_extractor.h"

#include <algorithm>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "services/text/markdown_inline.h"

namespace quarry::text {
namespace {

constexpr size_t kCodeIndent = 4;

// The number of columns of leading whitespace, a tab counting to the next multiple of four.
size_t IndentColumns(absl::string_view line) {
  size_t columns = 0;
  for (char c : line) {
    if (c == ' ') {
      ++columns;
    } else if (c == '\t') {
      columns += 4 - columns % 4;
    } else {
      break;
    }
  }
  return columns;
}

// `line` without its first `columns` columns of indentation.
absl::string_view RemoveIndent(absl::string_view line, size_t columns) {
  size_t removed = 0;
  while (!line.empty() && removed < columns && (line[0] == ' ' || line[0] == '\t')) {
    removed += line[0] == '\t' ? 4 - removed % 4 : 1;
    line.remove_prefix(1);
  }
  return line;
}

// True when `line` is three or more of `c`, optionally with spaces between.
bool IsRuleOf(absl::string_view line, char c) {
  size_t count = 0;
  for (char x : line) {
    if (x == c) {
      ++count;
    } else if (x != ' ' && x != '\t') {
      return false;
    }
  }
  return count >= 3;
}

// The length of a list marker ("- ", "* ", "+ ", "1. ", "2) ") opening `line`, 0 if none.
size_t ListMarkerLength(absl::string_view line) {
  size_t i = 0;
  if (!line.empty() && (line[0] == '-' || line[0] == '*' || line[0] == '+')) {
    i = 1;
  } else {
    while (i < line.size() && i < 9 && absl::ascii_isdigit(line[i])) ++i;
    if (i == 0 || i >= line.size() || (line[i] != '.' && line[i] != ')')) return 0;
    ++i;
  }
  if (i == line.size()) return i;
  return line[i] == ' ' || line[i] == '\t' ? i + 1 : 0;
}

// The cells of a table row "| a | b |", or an empty vector for the delimiter row "|---|:-:|".
std::vector<std::string> TableCells(absl::string_view row) {
  row = absl::StripAsciiWhitespace(row);
  absl::ConsumePrefix(&row, "|");
  if (!absl::EndsWith(row, "\\|")) absl::ConsumeSuffix(&row, "|");
  if (row.find_first_not_of("|-: \t") == absl::string_view::npos) return {};

  std::vector<std::string> cells;
  std::string cell;
  for (size_t i = 0; i < row.size(); ++i) {
    if (row[i] == '\\' && i + 1 < row.size() && row[i + 1] == '|') {
      cell.push_back('|');
      ++i;
    } else if (row[i] == '|') {
      cells.push_back(MarkdownInlineToText(absl::StripAsciiWhitespace(cell)));
      cell.clear();
    } else {
      cell.push_back(row[i]);
    }
  }
  cells.push_back(MarkdownInlineToText(absl::StripAsciiWhitespace(cell)));
  return cells;
}

// Reads a document line by line, holding at most one open paragraph or code block.
class MarkdownReader {
 public:
  explicit MarkdownReader(TextBlockBuilder* blocks) : blocks_(blocks) {}

  void Read(absl::string_view markdown) {
    std::vector<absl::string_view> lines = absl::StrSplit(markdown, '\n');
    for (absl::string_view& line : lines) absl::ConsumeSuffix(&line, "\r");
    size_t first = SkipFrontMatter(lines);
    for (size_t i = first; i < lines.size(); ++i) ReadLine(lines[i]);
    FlushParagraph();
    FlushCode();
  }

 private:
  // The index of the first line after a front matter block ("---" ... "---" or "...").
  static size_t SkipFrontMatter(const std::vector<absl::string_view>& lines) {
    if (lines.empty() || lines[0] != "---") return 0;
    for (size_t i = 1; i < lines.size(); ++i) {
      if (lines[i] == "---" || lines[i] == "...") return i + 1;
    }
    return 0;
  }

  void ReadLine(absl::string_view line) {
    if (fence_length_ > 0) {
      ReadFencedLine(line);
      return;
    }

    const size_t indent = IndentColumns(line);
    const absl::string_view content = absl::StripLeadingAsciiWhitespace(line);
    if (content.empty()) {
      FlushParagraph();
      if (in_indented_code_) code_.push_back('\n');
      return;
    }
    if (indent >= kCodeIndent && (in_indented_code_ || paragraph_.empty())) {
      in_indented_code_ = true;
      const absl::string_view code = RemoveIndent(line, kCodeIndent);
      code_.append(code.data(), code.size());
      code_.push_back('\n');
      return;
    }
    FlushCode();
    ReadBlockStart(content);
  }

  // `content` is a line with its indentation removed, outside any code block.
  void ReadBlockStart(absl::string_view content) {
    if (absl::StartsWith(content, "```") || absl::StartsWith(content, "~~~")) {
      FlushParagraph();
      fence_char_ = content[0];
      fence_length_ = content.find_first_not_of(fence_char_);
      if (fence_length_ == absl::string_view::npos) fence_length_ = content.size();
      return;
    }
    if (content[0] == '#') {
      const size_t level = content.find_first_not_of('#');
      const bool atx = level == absl::string_view::npos ||
                       (level <= 6 && (content[level] == ' ' || content[level] == '\t'));
      if (atx) {
        ReadAtxHeading(content);
        return;
      }
    }
    if (!paragraph_.empty() && !in_list_item_ && IsSetextUnderline(content, '=')) {
      blocks_->AddHeading(1, MarkdownInlineToText(paragraph_));
      paragraph_.clear();
      return;
    }
    if (!paragraph_.empty() && !in_list_item_ && IsSetextUnderline(content, '-')) {
      blocks_->AddHeading(2, MarkdownInlineToText(paragraph_));
      paragraph_.clear();
      return;
    }
    if (IsRuleOf(content, '-') || IsRuleOf(content, '*') || IsRuleOf(content, '_')) {
      FlushParagraph();
      return;
    }
    if (content[0] == '>') {
      absl::string_view quoted = content;
      while (!quoted.empty() && quoted[0] == '>') {
        quoted = absl::StripLeadingAsciiWhitespace(quoted.substr(1));
      }
      ReadLine(quoted);  // no longer opens with '>', so this recurses once
      return;
    }
    if (const size_t marker = ListMarkerLength(content); marker > 0) {
      FlushParagraph();
      absl::string_view item = absl::StripLeadingAsciiWhitespace(content.substr(marker));
      if (absl::StartsWith(item, "[ ] ") || absl::StartsWithIgnoreCase(item, "[x] ")) {
        item.remove_prefix(4);  // a task list's check box
      }
      paragraph_ = std::string(item);
      in_list_item_ = true;
      return;
    }
    if (content[0] == '|') {
      FlushParagraph();
      const std::vector<std::string> cells = TableCells(content);
      if (!cells.empty()) blocks_->AddParagraph(absl::StrJoin(cells, " | "));
      return;
    }
    if (IsHtmlComment(content) || (paragraph_.empty() && IsLinkReferenceDefinition(content))) {
      return;
    }

    if (!paragraph_.empty()) paragraph_.push_back('\n');
    paragraph_.append(content.data(), content.size());
  }

  void ReadAtxHeading(absl::string_view content) {
    FlushParagraph();
    const size_t level = std::min(content.find_first_not_of('#'), content.size());
    absl::string_view text = absl::StripAsciiWhitespace(content.substr(level));
    // A closing sequence of '#' is dropped when a space separates it from the text.
    const size_t closing = text.find_last_not_of('#');
    if (closing == absl::string_view::npos) {
      text = "";
    } else if (closing + 1 < text.size() && (text[closing] == ' ' || text[closing] == '\t')) {
      text = absl::StripTrailingAsciiWhitespace(text.substr(0, closing));
    }
    blocks_->AddHeading(static_cast<int>(level), MarkdownInlineToText(text));
  }

  void ReadFencedLine(absl::string_view line) {
    const absl::string_view content = absl::StripLeadingAsciiWhitespace(line);
    // A closing fence is a run of the opening character at least as long, alone on its line.
    const size_t run = std::min(content.find_first_not_of(fence_char_), content.size());
    const bool closes = IndentColumns(line) < kCodeIndent && run > 0 && run >= fence_length_ &&
                        absl::StripAsciiWhitespace(content.substr(run)).empty();
    if (closes) {
      fence_length_ = 0;
      FlushCode();
      return;
    }
    code_.append(line.data(), line.size());
    code_.push_back('\n');
  }

  static bool IsSetextUnderline(absl::string_view content, char c) {
    const absl::string_view underline = absl::StripTrailingAsciiWhitespace(content);
    return !underline.empty() && underline.find_first_not_of(c) == absl::string_view::npos;
  }

  static bool IsHtmlComment(absl::string_view content) {
    return absl::StartsWith(content, "<!--") && absl::EndsWith(content, "-->");
  }

  // "[id]: https://...", which defines a reference link's target and is not text.
  static bool IsLinkReferenceDefinition(absl::string_view content) {
    if (content[0] != '[') return false;
    const size_t close = content.find("]:");
    return close != absl::string_view::npos && close > 1 &&
           content.substr(0, close).find(']') == absl::string_view::npos;
  }

  void FlushParagraph() {
    if (!paragraph_.empty()) blocks_->AddParagraph(MarkdownInlineToText(paragraph_));
    paragraph_.clear();
    in_list_item_ = false;
  }

  void FlushCode() {
    if (!code_.empty()) blocks_->AddVerbatim(code_);
    code_.clear();
    in_indented_code_ = false;
  }

  TextBlockBuilder* const blocks_;
  std::string paragraph_;  // the open paragraph or list item, lines joined by '\n'
  bool in_list_item_ = false;
  std::string code_;  // the open code block
  bool in_indented_code_ = false;
  char fence_char_ = '`';
  size_t fence_length_ = 0;  // of the open fence; 0 outside fenced code
};

}  // namespace

void ExtractMarkdown(absl::string_view markdown, TextBlockBuilder* blocks) {
  MarkdownReader(blocks).Read(markdown);
}

}  // namespace quarry::text
