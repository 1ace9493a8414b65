// Getting a document's text into well-formed UTF-8: decoding the encodings a document declares
// (a UTF-16 byte order mark; an HTML <meta charset> or XML declaration naming another charset)
// and replacing whatever is still ill-formed with U+FFFD, counting the bytes replaced.
//
// Charset names follow the WHATWG Encoding Standard's labels where they differ from ICU's:
// "iso-8859-1" and "us-ascii" mean windows-1252, "gb2312" means GBK. Conversion is done by ICU;
// a charset ICU does not know leaves the bytes as they are, to be read as UTF-8.
//
// Stateless functions; safe to call from any thread.
#ifndef QUARRY_SERVICES_TEXT_TEXT_ENCODING_H_
#define QUARRY_SERVICES_TEXT_TEXT_ENCODING_H_

#include <cstddef>
#include <string>

#include "absl/strings/string_view.h"

namespace quarry::text {

// The charset an HTML document declares in its first 1024 bytes (a <meta charset>, a <meta
// content="...; charset=...">, or an XML declaration's encoding), lowercased; empty if none.
std::string DeclaredHtmlCharset(absl::string_view html);

// `bytes` as UTF-8: a UTF-8 byte order mark is dropped, a UTF-16 (LE or BE) one decodes the rest
// as UTF-16, and otherwise a non-empty `declared_charset` other than UTF-8 is decoded with ICU.
// Everything else is returned unchanged.
std::string DecodeToUtf8(absl::string_view bytes, absl::string_view declared_charset);

// `text` with each maximal ill-formed UTF-8 subpart replaced by U+FFFD; adds the number of bytes
// those subparts held to `*replaced_bytes`.
std::string RepairUtf8(absl::string_view text, size_t* replaced_bytes);

}  // namespace quarry::text

#endif  // QUARRY_SERVICES_TEXT_TEXT_ENCODING_H_
