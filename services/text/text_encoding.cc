#include "services/text/text_encoding.h"

#include <unicode/ucnv.h>

#include <optional>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "services/runtime/log.h"
#include "services/text/utf8_repair.h"

namespace quarry::text {
namespace {

constexpr absl::string_view kReplacementCharacter = "\xEF\xBF\xBD";
constexpr absl::string_view kUtf8ByteOrderMark = "\xEF\xBB\xBF";
constexpr absl::string_view kUtf16LeByteOrderMark = "\xFF\xFE";
constexpr absl::string_view kUtf16BeByteOrderMark = "\xFE\xFF";
constexpr size_t kCharsetPrescanBytes = 1024;

size_t CountOccurrences(absl::string_view text, absl::string_view needle) {
  size_t count = 0;
  for (size_t at = text.find(needle); at != absl::string_view::npos;
       at = text.find(needle, at + needle.size())) {
    ++count;
  }
  return count;
}

// The charset name after `attribute` (e.g. "charset") and an '=' at `text[at]`, lowercased.
std::string ValueAfter(absl::string_view text, size_t at, absl::string_view attribute) {
  size_t i = at + attribute.size();
  while (i < text.size() && text[i] == ' ') ++i;
  if (i >= text.size() || text[i] != '=') return "";
  ++i;
  while (i < text.size() && (text[i] == ' ' || text[i] == '"' || text[i] == '\'')) ++i;
  std::string value;
  while (i < text.size() && (absl::ascii_isalnum(text[i]) || text[i] == '-' || text[i] == '_' ||
                             text[i] == '.' || text[i] == ':')) {
    value.push_back(absl::ascii_tolower(text[i++]));
  }
  return value;
}

// The name ICU knows a WHATWG charset label by, or nullopt when the text is UTF-8 already.
std::optional<std::string> IcuCharsetName(absl::string_view label) {
  if (label == "utf-8" || label == "utf8" || label == "unicode-1-1-utf-8") return std::nullopt;
  // A document that could be read far enough to find the declaration is not UTF-16.
  if (absl::StartsWith(label, "utf-16")) return std::nullopt;
  if (label == "iso-8859-1" || label == "latin1" || label == "us-ascii" || label == "ascii") {
    return "windows-1252";
  }
  if (label == "gb2312" || label == "x-gbk" || label == "chinese") return "GBK";
  return std::string(label);
}

// `bytes` decoded from `charset` with ICU, or nullopt when ICU cannot.
std::optional<std::string> ConvertWithIcu(absl::string_view bytes, const std::string& charset) {
  const int32_t length = static_cast<int32_t>(bytes.size());
  UErrorCode status = U_ZERO_ERROR;
  const int32_t needed =
      ucnv_convert("UTF-8", charset.c_str(), nullptr, 0, bytes.data(), length, &status);
  if (status != U_BUFFER_OVERFLOW_ERROR && U_FAILURE(status)) {
    runtime::Logger("text")->debug("cannot decode charset {}: {}", charset, u_errorName(status));
    return std::nullopt;
  }

  std::string decoded(needed, '\0');
  status = U_ZERO_ERROR;
  ucnv_convert("UTF-8", charset.c_str(), decoded.data(), needed, bytes.data(), length, &status);
  if (U_FAILURE(status)) return std::nullopt;
  return decoded;
}

}  // namespace

std::string DeclaredHtmlCharset(absl::string_view html) {
  const std::string head = absl::AsciiStrToLower(html.substr(0, kCharsetPrescanBytes));
  if (absl::StartsWith(head, "<?xml")) {
    const size_t end = head.find("?>");
    const size_t at = head.find("encoding");
    if (at != std::string::npos && at < end) {
      std::string charset = ValueAfter(head, at, "encoding");
      if (!charset.empty()) return charset;
    }
  }

  for (size_t tag = head.find("<meta"); tag != std::string::npos;
       tag = head.find("<meta", tag + 1)) {
    const size_t end = head.find('>', tag);
    const size_t at = head.find("charset", tag);
    if (at == std::string::npos || at > end) continue;
    std::string charset = ValueAfter(head, at, "charset");
    if (!charset.empty()) return charset;
  }
  return "";
}

std::string DecodeToUtf8(absl::string_view bytes, absl::string_view declared_charset) {
  if (absl::StartsWith(bytes, kUtf8ByteOrderMark)) {
    return std::string(bytes.substr(kUtf8ByteOrderMark.size()));
  }
  std::optional<std::string> charset;
  if (absl::StartsWith(bytes, kUtf16LeByteOrderMark)) {
    charset = "UTF-16LE";
    bytes.remove_prefix(kUtf16LeByteOrderMark.size());
  } else if (absl::StartsWith(bytes, kUtf16BeByteOrderMark)) {
    charset = "UTF-16BE";
    bytes.remove_prefix(kUtf16BeByteOrderMark.size());
  } else if (!declared_charset.empty()) {
    charset = IcuCharsetName(declared_charset);
  }
  if (!charset.has_value()) return std::string(bytes);

  std::optional<std::string> decoded = ConvertWithIcu(bytes, *charset);
  return decoded.has_value() ? *std::move(decoded) : std::string(bytes);
}

std::string RepairUtf8(absl::string_view text, size_t* replaced_bytes) {
  if (WellFormedUtf8Prefix(text) == text.size()) return std::string(text);

  // The repair keeps every well-formed byte and turns each ill-formed subpart into one U+FFFD
  // (a well-formed U+FFFD already in the text is kept as it is), so the counts follow.
  std::string repaired = ReplaceIllFormedUtf8(text);
  const size_t replacements = CountOccurrences(repaired, kReplacementCharacter) -
                              CountOccurrences(text, kReplacementCharacter);
  *replaced_bytes += text.size() + kReplacementCharacter.size() * replacements - repaired.size();
  return repaired;
}

}  // namespace quarry::text
