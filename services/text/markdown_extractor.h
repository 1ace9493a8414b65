// Markdown to blocks: ATX ("## Usage") and setext (underlined) headings build the heading path;
// paragraphs, list items (one block each, nested items too), table rows and fenced or indented
// code blocks become blocks. Inline markup is rendered to its readable text (markdown_inline.h);
// code keeps its lines verbatim. A YAML front matter block at the very top is skipped, as are
// link reference definitions and single-line HTML comments.
//
// Follows CommonMark's block structure loosely: lazy continuation lines join the paragraph or
// list item before them, and a blockquote's text is read as if it were not quoted.
//
// Stateless; safe to call from any thread.
#ifndef QUARRY_SERVICES_TEXT_MARKDOWN_EXTRACTOR_H_
#define QUARRY_SERVICES_TEXT_MARKDOWN_EXTRACTOR_H_

#include "absl/strings/string_view.h"
#include "services/text/text_block_builder.h"

namespace quarry::text {

// REQUIRES: `markdown` is well-formed UTF-8.
void ExtractMarkdown(absl::string_view markdown, TextBlockBuilder* blocks);

}  // namespace quarry::text

#endif  // QUARRY_SERVICES_TEXT_MARKDOWN_EXTRACTOR_H_
