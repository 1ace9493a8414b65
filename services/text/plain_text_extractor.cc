#include "services/text/plain_text_extractor.h"

#include "absl/strings/ascii.h"

namespace quarry::text {

void ExtractPlainText(absl::string_view text, TextBlockBuilder* blocks) {
  // The paragraph being read spans text[paragraph_start, paragraph_end).
  size_t paragraph_start = absl::string_view::npos;
  size_t paragraph_end = 0;
  size_t line_start = 0;
  while (line_start < text.size()) {
    size_t line_end = text.find('\n', line_start);
    if (line_end == absl::string_view::npos) line_end = text.size();
    const absl::string_view line = text.substr(line_start, line_end - line_start);

    if (!absl::StripAsciiWhitespace(line).empty()) {
      if (paragraph_start == absl::string_view::npos) paragraph_start = line_start;
      paragraph_end = line_end;
    } else if (paragraph_start != absl::string_view::npos) {
      blocks->AddParagraph(text.substr(paragraph_start, paragraph_end - paragraph_start));
      paragraph_start = absl::string_view::npos;
    }
    line_start = line_end + 1;
  }
  if (paragraph_start != absl::string_view::npos) {
    blocks->AddParagraph(text.substr(paragraph_start, paragraph_end - paragraph_start));
  }
}

}  // namespace quarry::text
