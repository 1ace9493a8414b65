// Plain text to blocks: a paragraph is a run of lines between blank lines. There are no
// headings, so every block has an empty heading path.
//
// Stateless; safe to call from any thread.
#ifndef QUARRY_SERVICES_TEXT_PLAIN_TEXT_EXTRACTOR_H_
#define QUARRY_SERVICES_TEXT_PLAIN_TEXT_EXTRACTOR_H_

#include "absl/strings/string_view.h"
#include "services/text/text_block_builder.h"

namespace quarry::text {

// REQUIRES: `text` is well-formed UTF-8.
void ExtractPlainText(absl::string_view text, TextBlockBuilder* blocks);

}  // namespace quarry::text

#endif  // QUARRY_SERVICES_TEXT_PLAIN_TEXT_EXTRACTOR_H_
