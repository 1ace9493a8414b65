// Collects the text blocks of one document as a format's extractor walks it: keeps the stack of
// section headings in effect, normalises each block's whitespace, and drops blocks with no text.
//
// Every extractor (plain text, Markdown, HTML, PDF) feeds one of these, so all formats agree on
// what a block and a heading path look like. Expects well-formed UTF-8.
//
// Not thread-safe; one builder per document.
#ifndef QUARRY_SERVICES_TEXT_TEXT_BLOCK_BUILDER_H_
#define QUARRY_SERVICES_TEXT_TEXT_BLOCK_BUILDER_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"
#include "services/text/document_extractor.h"

namespace quarry::text {

// `text` with each run of whitespace (ASCII whitespace and U+00A0) made one space, trimmed.
std::string CollapseWhitespace(absl::string_view text);

class TextBlockBuilder {
 public:
  // Opens a section: a heading of `level` (1 for the outermost) closes every open section at
  // that level or deeper. A heading with no text closes them and opens nothing.
  void AddHeading(int level, absl::string_view text);

  // Adds a paragraph-like block; its whitespace is collapsed. Ignored when it has no text.
  void AddParagraph(absl::string_view text);

  // Adds a code or preformatted block, kept line by line: only trailing spaces on each line and
  // blank lines at either end are removed. Ignored when it has no text.
  void AddVerbatim(absl::string_view text);

  // The page later blocks start on (PDF only).
  void SetPage(int page) { page_ = page; }

  // The text of the first level-1 heading seen, or empty.
  const std::string& first_top_heading() const { return first_top_heading_; }

  std::vector<TextBlock> TakeBlocks() { return std::move(blocks_); }

 private:
  void Add(std::string text);

  std::vector<std::pair<int, std::string>> open_headings_;  // (level, text), outermost first
  std::string first_top_heading_;
  std::vector<TextBlock> blocks_;
  int page_ = 0;
};

}  // namespace quarry::text

#endif  // QUARRY_SERVICES_TEXT_TEXT_BLOCK_BUILDER_H_
