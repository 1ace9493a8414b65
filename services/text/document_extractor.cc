#include "services/text/document_extractor.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "services/text/document_format.h"
#include "services/text/html_extractor.h"
#include "services/text/markdown_extractor.h"
#include "services/text/pdf_extractor.h"
#include "services/text/plain_text_extractor.h"
#include "services/text/text_block_builder.h"
#include "services/text/text_encoding.h"

namespace quarry::text {
namespace {

constexpr size_t kReadChunkBytes = 1 << 20;

// The name error messages use for the document.
std::string DisplayName(absl::string_view file_name) {
  return file_name.empty() ? "(unnamed document)" : std::string(file_name);
}

absl::Status Rejected(absl::string_view file_name, absl::string_view reason) {
  return absl::InvalidArgumentError(absl::StrCat(DisplayName(file_name), " ", reason));
}

std::string ContentHash(absl::string_view bytes) {
  const XXH128_hash_t hash = XXH3_128bits(bytes.data(), bytes.size());
  return absl::StrFormat("%016x%016x", hash.high64, hash.low64);
}

std::string SizeLimitReason(size_t size, size_t max_bytes) {
  return absl::StrCat("is larger than the limit of ", max_bytes, " bytes (", size, " bytes)");
}

// Decodes, checks and parses a document in one of the text formats.
absl::Status ExtractTextFormat(absl::string_view bytes, DocumentFormat format,
                               absl::string_view file_name, ExtractedDocument* document,
                               TextBlockBuilder* blocks) {
  const std::string charset =
      format == DocumentFormat::kHtml ? DeclaredHtmlCharset(bytes) : std::string();
  const std::string decoded = DecodeToUtf8(bytes, charset);
  if (const std::string reason = BinaryContentReason(decoded); !reason.empty()) {
    return Rejected(file_name, absl::StrCat("is not a text document: ", reason));
  }
  const std::string text = RepairUtf8(decoded, &document->replaced_invalid_bytes);

  switch (format) {
    case DocumentFormat::kHtml:
      ExtractHtml(text, blocks, &document->title);
      break;
    case DocumentFormat::kMarkdown:
      ExtractMarkdown(text, blocks);
      break;
    case DocumentFormat::kPlainText:
      ExtractPlainText(text, blocks);
      break;
    case DocumentFormat::kPdf:
      break;  // read by ExtractPdf, never as text
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<ExtractedDocument> ExtractDocument(absl::string_view bytes,
                                                  absl::string_view file_name,
                                                  const ExtractOptions& options) {
  if (bytes.size() > options.max_bytes) {
    return Rejected(file_name, SizeLimitReason(bytes.size(), options.max_bytes));
  }
  if (bytes.empty()) return Rejected(file_name, "is empty");

  const DocumentFormat format = DetectDocumentFormat(bytes, file_name);
  ExtractedDocument document;
  document.media_type = std::string(MediaType(format));
  document.content_hash = ContentHash(bytes);

  TextBlockBuilder blocks;
  if (format == DocumentFormat::kPdf) {
    if (absl::Status status =
            ExtractPdf(bytes, &blocks, &document.title, &document.replaced_invalid_bytes);
        !status.ok()) {
      return Rejected(file_name, status.message());
    }
  } else if (absl::Status status = ExtractTextFormat(bytes, format, file_name, &document, &blocks);
             !status.ok()) {
    return status;
  }

  document.blocks = blocks.TakeBlocks();
  if (document.blocks.empty()) {
    return Rejected(file_name, format == DocumentFormat::kPdf
                                   ? "has no text (a scanned PDF needs OCR first)"
                                   : "has no text");
  }
  if (document.title.empty()) document.title = blocks.first_top_heading();
  if (document.title.empty()) document.title = FileStem(file_name);
  return document;
}

absl::StatusOr<ExtractedDocument> ExtractFile(const std::string& path,
                                              const ExtractOptions& options) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    const int error = errno;
    return absl::Status(absl::ErrnoToStatusCode(error),
                        absl::StrCat(path, " cannot be opened: ", std::strerror(error)));
  }
  struct FileCloser {
    int fd;
    ~FileCloser() { ::close(fd); }
  } closer{fd};

  struct stat info;
  if (::fstat(fd, &info) != 0) {
    const int error = errno;
    return absl::Status(absl::ErrnoToStatusCode(error),
                        absl::StrCat(path, " cannot be read: ", std::strerror(error)));
  }
  if (S_ISDIR(info.st_mode)) return Rejected(path, "is a directory, not a document");
  if (S_ISREG(info.st_mode) && static_cast<size_t>(info.st_size) > options.max_bytes) {
    return Rejected(path, SizeLimitReason(info.st_size, options.max_bytes));
  }

  // Reads at most one byte past the limit, which is enough to know the file is over it.
  std::string bytes;
  while (bytes.size() <= options.max_bytes) {
    const size_t old_size = bytes.size();
    const size_t want = std::min(kReadChunkBytes, options.max_bytes + 1 - old_size);
    bytes.resize(old_size + want);
    const ssize_t got = ::read(fd, bytes.data() + old_size, want);
    if (got < 0 && errno == EINTR) {
      bytes.resize(old_size);
      continue;
    }
    if (got < 0) {
      const int error = errno;
      return absl::Status(absl::ErrnoToStatusCode(error),
                          absl::StrCat(path, " cannot be read: ", std::strerror(error)));
    }
    bytes.resize(old_size + got);
    if (got == 0) break;
  }
  return ExtractDocument(bytes, path, options);
}

}  // namespace quarry::text
