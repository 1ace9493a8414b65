// One unit of a document's running text, in document order, as extraction finds it: a
// paragraph, list item, table row (cells joined by " | ") or code block, with the section
// headings it sits under. Whitespace is collapsed to single spaces except in code blocks, which
// keep their lines.
#ifndef QUARRY_SERVICES_TEXT_TEXT_BLOCK_H_
#define QUARRY_SERVICES_TEXT_TEXT_BLOCK_H_

#include <string>
#include <vector>

namespace quarry::text {

struct TextBlock {
  std::vector<std::string> heading_path;  // section headings in effect, outermost first
  std::string text;                       // valid UTF-8
  int page = 0;                           // 1-based PDF page, 0 for other formats
};

}  // namespace quarry::text

#endif  // QUARRY_SERVICES_TEXT_TEXT_BLOCK_H_
