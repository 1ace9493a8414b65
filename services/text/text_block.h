// A block of a document's text as extraction finds it: a paragraph, list item, table row or
// code block, with the section headings it sits under.
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
