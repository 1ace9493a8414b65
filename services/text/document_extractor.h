// Document extraction: the first step of the text path, from the bytes a user hands Quarry (an
// HTML manual, a PDF, Markdown, plain text) to paragraphs of clean UTF-8 text, each with the
// section headings it sits under, ready for the chunker.
//
// The media type is decided from the content and the file name's extension together: a "%PDF-"
// header always means PDF, a document that opens with "<!DOCTYPE html" or "<html" is HTML, and
// otherwise the extension decides (.html/.htm/.xhtml, .md/.markdown, .pdf; anything else is
// plain text, or Markdown when it has ATX headings or fenced code). A document is either
// extracted whole or rejected with a Status naming the file and the reason; never in part.
//
// Text is always valid UTF-8: a UTF-16 document with a byte order mark and an HTML document whose
// <meta charset> names another encoding are converted; any remaining ill-formed bytes become
// U+FFFD and are counted in `replaced_invalid_bytes`.
//
// Stateless functions; safe to call from any thread.
#ifndef QUARRY_SERVICES_TEXT_DOCUMENT_EXTRACTOR_H_
#define QUARRY_SERVICES_TEXT_DOCUMENT_EXTRACTOR_H_

#include <cstddef>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "services/text/text_block.h"

namespace quarry::text {

struct ExtractedDocument {
  // The HTML <title>, the first level-1 heading, the PDF's Info Title, or else the file name
  // without its directory and extension.
  std::string title;
  // "text/plain", "text/markdown", "text/html" or "application/pdf".
  std::string media_type;
  // XXH3-128 of the raw bytes as 32 lowercase hex digits, high half first.
  std::string content_hash;
  // Never empty in a document that was extracted.
  std::vector<TextBlock> blocks;
  // Bytes of ill-formed UTF-8 in the (decoded) text that were replaced with U+FFFD. Each maximal
  // ill-formed subpart becomes one U+FFFD, so a truncated three-byte character counts 2 bytes
  // and is one replacement character.
  size_t replaced_invalid_bytes = 0;
};

struct ExtractOptions {
  // Larger documents are rejected before any parsing.
  size_t max_bytes = 64 << 20;
};

// Extracts the document in `bytes`; `file_name` (a path or a bare name, may be empty) supplies the
// extension and the fallback title, and names the document in error messages.
//
// Returns INVALID_ARGUMENT for a document that is empty, larger than `options.max_bytes`, binary
// (a NUL byte, or mostly control characters and ill-formed UTF-8 in its first 8 KB), a PDF that
// is encrypted, damaged or truncated, or one with no text at all.
absl::StatusOr<ExtractedDocument> ExtractDocument(absl::string_view bytes,
                                                  absl::string_view file_name,
                                                  const ExtractOptions& options);

// Reads the file at `path` and extracts it as above. Returns NOT_FOUND or PERMISSION_DENIED when
// the file cannot be opened, INVALID_ARGUMENT for a directory or one of the cases above, without
// reading more than `options.max_bytes` + 1 bytes.
absl::StatusOr<ExtractedDocument> ExtractFile(const std::string& path,
                                              const ExtractOptions& options);

}  // namespace quarry::text

#endif  // QUARRY_SERVICES_TEXT_DOCUMENT_EXTRACTOR_H_
