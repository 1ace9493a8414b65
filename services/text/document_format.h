// Deciding what kind of document a file is, from its first bytes and its name: the formats
// Quarry extracts, their media types, and the test that rejects binary files posing as text.
//
// Stateless functions; safe to call from any thread.
#ifndef QUARRY_SERVICES_TEXT_DOCUMENT_FORMAT_H_
#define QUARRY_SERVICES_TEXT_DOCUMENT_FORMAT_H_

#include <string>

#include "absl/strings/string_view.h"

namespace quarry::text {

enum class DocumentFormat { kPlainText, kMarkdown, kHtml, kPdf };

// "text/plain", "text/markdown", "text/html" or "application/pdf".
absl::string_view MediaType(DocumentFormat format);

// The format of `bytes` named `file_name`. Content that announces itself wins: a "%PDF-" header
// in the first 1024 bytes (as PDF readers allow), or markup that opens with "<!DOCTYPE html" or
// "<html" (after a byte order mark, whitespace, an XML declaration and comments). Otherwise the
// extension decides, and a file with no known extension is Markdown when an ATX heading or a
// code fence opens a line in its first 4 KB, else plain text.
DocumentFormat DetectDocumentFormat(absl::string_view bytes, absl::string_view file_name);

// Why the first 8 KB of `text` look binary rather than text: a NUL byte, or more than 30% of the
// bytes being control characters (other than whitespace and ESC) or ill-formed UTF-8. Empty when
// they look like text.
std::string BinaryContentReason(absl::string_view text);

// The last component of `file_name` without its extension: "docs/Intro.md" gives "Intro".
std::string FileStem(absl::string_view file_name);

}  // namespace quarry::text

#endif  // QUARRY_SERVICES_TEXT_DOCUMENT_FORMAT_H_
