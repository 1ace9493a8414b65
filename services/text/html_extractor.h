// HTML to blocks, on Google's gumbo parser, which reads any HTML, however broken, the way a
// browser would (character references decoded, unclosed tags closed).
//
// Keeps what a reader of the page came for. Dropped: <script>, <style>, <noscript>, <template>,
// <nav>, embedded objects, form controls, anything `hidden`, `aria-hidden="true"` or styled
// `display:none`, ARIA navigation/banner/search landmarks, elements classed as navigation
// (nav, navbar, navheader, navfooter, breadcrumb, ...), and the page-level <footer>. A
// page-level <header> contributes its headings only. h1-h6 build the heading path; each block
// element (p, li, dt, dd, blockquote, div text, table rows with cells joined by " | ", ...) is a
// block with its whitespace collapsed, and <pre> a verbatim block.
//
// Stateless; safe to call from any thread.
#ifndef QUARRY_SERVICES_TEXT_HTML_EXTRACTOR_H_
#define QUARRY_SERVICES_TEXT_HTML_EXTRACTOR_H_

#include <string>

#include "absl/strings/string_view.h"
#include "services/text/text_block_builder.h"

namespace quarry::text {

// Adds the blocks of `html` to `blocks` and sets `*title` to its <title> text (whitespace
// collapsed; empty when there is none).
// REQUIRES: `html` is well-formed UTF-8.
void ExtractHtml(absl::string_view html, TextBlockBuilder* blocks, std::string* title);

}  // namespace quarry::text

#endif  // QUARRY_SERVICES_TEXT_HTML_EXTRACTOR_H_
