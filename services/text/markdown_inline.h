// The readable text of Markdown inline markup: what a reader sees once emphasis, code spans,
// links, images, autolinks and inline HTML tags are rendered.
//
// Approximates CommonMark's inline rules closely enough for retrieval: links and images keep
// their text (images their alt text) and lose the destination; reference links lose the label;
// code spans keep their content verbatim; backslash escapes are resolved; `*`, `_` and `~~` runs
// are dropped where they open or close emphasis (a `_` inside a word, as in snake_case, stays);
// tags such as <br> or <kbd> are dropped and their text kept.
//
// Stateless; safe to call from any thread.
#ifndef QUARRY_SERVICES_TEXT_MARKDOWN_INLINE_H_
#define QUARRY_SERVICES_TEXT_MARKDOWN_INLINE_H_

#include <string>

#include "absl/strings/string_view.h"

namespace quarry::text {

std::string MarkdownInlineToText(absl::string_view markdown);

}  // namespace quarry::text

#endif  // QUARRY_SERVICES_TEXT_MARKDOWN_INLINE_H_
