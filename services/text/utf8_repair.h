// Well-formedness of UTF-8 text, and the repair the tokenizers apply to text that is not.
//
// The tokenizers split text with a Unicode-aware pattern, which is only defined on well-formed
// UTF-8. Rather than reject ill-formed input, they tokenize what a UTF-8 decoder would read:
// each maximal ill-formed subpart becomes U+REPLACEMENT CHARACTER (EF BF BD), as in the Unicode
// Standard's "substitution of maximal subparts" (section 3.9), which is also what the WHATWG
// TextDecoder and Python's `errors="replace"` do. Overlong forms, surrogates (ED A0..BF) and
// code points above U+10FFFF are ill-formed.
//
// Stateless functions; safe to call from any thread.
#ifndef QUARRY_SERVICES_TEXT_UTF8_REPAIR_H_
#define QUARRY_SERVICES_TEXT_UTF8_REPAIR_H_

#include <cstddef>
#include <string>

#include "absl/strings/string_view.h"

namespace quarry::text {

// The length in bytes of the longest prefix of `text` that is well-formed UTF-8 and ends on a
// character boundary; `text.size()` when all of it is well-formed.
size_t WellFormedUtf8Prefix(absl::string_view text);

// `text` with each maximal ill-formed subpart replaced by U+FFFD; well-formed text unchanged.
std::string ReplaceIllFormedUtf8(absl::string_view text);

}  // namespace quarry::text

#endif  // QUARRY_SERVICES_TEXT_UTF8_REPAIR_H_
