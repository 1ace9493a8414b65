#include "services/text/encodings.h"

#include "absl/strings/str_join.h"

namespace quarry::text {
namespace {

// tiktoken's patterns, written for PCRE2. tiktoken matches them with Rust's regex engine, whose
// `\s` is the Unicode White_Space property; PCRE2's `\s` is a slightly different set (it adds
// U+180E, for one), so the patterns name the property. Case-insensitive groups fold case as Rust
// does (`'S` and `'ſ` both match `'s`).
constexpr absl::string_view kCl100kPattern = R"((?i:'s|'t|'re|'ve|'m|'ll|'d))"
                                             R"(|[^\r\n\p{L}\p{N}]?\p{L}+)"
                                             R"(|\p{N}{1,3})"
                                             R"(| ?[^\p{White_Space}\p{L}\p{N}]+[\r\n]*)"
                                             R"(|\p{White_Space}*[\r\n]+)"
                                             R"(|\p{White_Space}+(?!\P{White_Space}))"
                                             R"(|\p{White_Space}+)";

constexpr absl::string_view kO200kPattern =
    R"([^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+)"
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)?)"
    R"(|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*)"
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)?)"
    R"(|\p{N}{1,3})"
    R"(| ?[^\p{White_Space}\p{L}\p{N}]+[\r\n/]*)"
    R"(|\p{White_Space}*[\r\n]+)"
    R"(|\p{White_Space}+(?!\P{White_Space}))"
    R"(|\p{White_Space}+)";

constexpr Encoding kEncodings[] = {
    {"cl100k_base", kCl100kPattern, 100256},
    {"o200k_base", kO200kPattern, 199998},
};

}  // namespace

const Encoding* FindEncoding(absl::string_view name) {
  for (const Encoding& encoding : kEncodings) {
    if (encoding.name == name) return &encoding;
  }
  return nullptr;
}

std::string EncodingNames() {
  return absl::StrJoin(kEncodings, ", ", [](std::string* out, const Encoding& encoding) {
    out->append(encoding.name.data(), encoding.name.size());
  });
}

}  // namespace quarry::text
