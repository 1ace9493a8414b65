#include "services/text/document_format.h"

#include <cstdint>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_format.h"
#include "absl/strings/strip.h"
#include "services/text/text_encoding.h"

namespace quarry::text {
namespace {

constexpr size_t kPdfHeaderWindow = 1024;
constexpr size_t kMarkdownSniffBytes = 4096;
constexpr size_t kBinarySniffBytes = 8192;
constexpr double kMaxNonTextFraction = 0.3;

// The extension of the last path component, lowercased and without the dot; empty if none.
std::string Extension(absl::string_view file_name) {
  const size_t slash = file_name.find_last_of('/');
  if (slash != absl::string_view::npos) file_name.remove_prefix(slash + 1);
  const size_t dot = file_name.rfind('.');
  if (dot == absl::string_view::npos || dot == 0) return "";
  return absl::AsciiStrToLower(file_name.substr(dot + 1));
}

// Skips leading whitespace, `<?...?>` declarations and `<!--...-->` comments.
absl::string_view SkipProlog(absl::string_view text) {
  absl::ConsumePrefix(&text, "\xEF\xBB\xBF");
  while (true) {
    text = absl::StripLeadingAsciiWhitespace(text);
    absl::string_view close;
    if (absl::StartsWith(text, "<?")) {
      close = "?>";
    } else if (absl::StartsWith(text, "<!--")) {
      close = "-->";
    } else {
      return text;
    }
    const size_t end = text.find(close);
    if (end == absl::string_view::npos) return "";
    text.remove_prefix(end + close.size());
  }
}

bool OpensAsHtml(absl::string_view bytes) {
  const absl::string_view start = SkipProlog(bytes.substr(0, kPdfHeaderWindow));
  return absl::StartsWithIgnoreCase(start, "<!doctype html") ||
         absl::StartsWithIgnoreCase(start, "<html");
}

// True when a line in `text` opens with "# " ... "###### " or a "```" / "~~~" fence.
bool HasMarkdownStructure(absl::string_view text) {
  size_t line_start = 0;
  while (line_start < text.size()) {
    size_t line_end = text.find('\n', line_start);
    if (line_end == absl::string_view::npos) line_end = text.size();
    const absl::string_view line = text.substr(line_start, line_end - line_start);
    if (absl::StartsWith(line, "```") || absl::StartsWith(line, "~~~")) return true;
    const size_t hashes = line.find_first_not_of('#');
    if (hashes >= 1 && hashes <= 6 && hashes != absl::string_view::npos && line[hashes] == ' ') {
      return true;
    }
    line_start = line_end + 1;
  }
  return false;
}

bool IsControlByte(uint8_t byte) {
  const bool whitespace =
      byte == '\t' || byte == '\n' || byte == '\v' || byte == '\f' || byte == '\r' || byte == 0x1B;
  return (byte < 0x20 && !whitespace) || byte == 0x7F;
}

}  // namespace

absl::string_view MediaType(DocumentFormat format) {
  switch (format) {
    case DocumentFormat::kPlainText:
      return "text/plain";
    case DocumentFormat::kMarkdown:
      return "text/markdown";
    case DocumentFormat::kHtml:
      return "text/html";
    case DocumentFormat::kPdf:
      return "application/pdf";
  }
  return "application/octet-stream";
}

DocumentFormat DetectDocumentFormat(absl::string_view bytes, absl::string_view file_name) {
  const std::string extension = Extension(file_name);
  if (bytes.substr(0, kPdfHeaderWindow).find("%PDF-") != absl::string_view::npos ||
      extension == "pdf") {
    return DocumentFormat::kPdf;
  }
  if (OpensAsHtml(bytes)) return DocumentFormat::kHtml;
  if (extension == "html" || extension == "htm" || extension == "xhtml") {
    return DocumentFormat::kHtml;
  }
  if (extension == "md" || extension == "markdown" || extension == "mdown" || extension == "mkd") {
    return DocumentFormat::kMarkdown;
  }
  if (extension.empty() && HasMarkdownStructure(bytes.substr(0, kMarkdownSniffBytes))) {
    return DocumentFormat::kMarkdown;
  }
  return DocumentFormat::kPlainText;
}

std::string BinaryContentReason(absl::string_view text) {
  const absl::string_view sample = text.substr(0, kBinarySniffBytes);
  if (sample.empty()) return "";
  if (sample.find('\0') != absl::string_view::npos) return "contains NUL bytes";

  size_t control_bytes = 0;
  for (char c : sample) control_bytes += IsControlByte(static_cast<uint8_t>(c)) ? 1 : 0;
  size_t ill_formed_bytes = 0;
  RepairUtf8(sample, &ill_formed_bytes);
  const double non_text = static_cast<double>(control_bytes + ill_formed_bytes) / sample.size();
  if (non_text > kMaxNonTextFraction) {
    return absl::StrFormat("%.0f%% of its first %d bytes are not text", 100 * non_text,
                           sample.size());
  }
  return "";
}

std::string FileStem(absl::string_view file_name) {
  const size_t slash = file_name.find_last_of('/');
  if (slash != absl::string_view::npos) file_name.remove_prefix(slash + 1);
  const size_t dot = file_name.rfind('.');
  if (dot != absl::string_view::npos && dot > 0) file_name = file_name.substr(0, dot);
  return std::string(file_name);
}

}  // namespace quarry::text
