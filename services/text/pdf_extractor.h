// PDF to blocks, on poppler: the document's Info Title, and each page's text regrouped into
// paragraphs (pdf_paragraphs.h), every block tagged with its 1-based page.
//
// Refuses what it cannot read whole: a file poppler cannot open, one that needs a password, one
// with no pages or whose end ("%%EOF") is missing. Poppler repairs some damage silently (a broken
// cross-reference table is rebuilt by scanning), so a damaged PDF that still opens is read as
// poppler reads it. Poppler's own diagnostics go to the "pdf" logger at debug level.
//
// Safe to call from any thread; each call parses its own document.
#ifndef QUARRY_SERVICES_TEXT_PDF_EXTRACTOR_H_
#define QUARRY_SERVICES_TEXT_PDF_EXTRACTOR_H_

#include <cstddef>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "services/text/text_block_builder.h"

namespace quarry::text {

// Adds the blocks of the PDF in `bytes` to `blocks` and sets `*title` to its Info Title (empty
// when it has none). Ill-formed UTF-8 in the text is replaced and counted in `*replaced_bytes`.
// Returns INVALID_ARGUMENT, with the reason but not the file's name, for the cases above; then
// `blocks` may hold some of the document's blocks and must be discarded.
absl::Status ExtractPdf(absl::string_view bytes, TextBlockBuilder* blocks, std::string* title,
                        size_t* replaced_bytes);

}  // namespace quarry::text

#endif  // QUARRY_SERVICES_TEXT_PDF_EXTRACTOR_H_
