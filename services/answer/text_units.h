// The units text is compared by, for near-duplicate detection and extractive answers: each run
// of letters and digits is one lower-cased word, except that every Han, Hiragana, Katakana or
// Hangul character is a unit of its own, since those scripts do not separate words by spaces.
//
// Pure functions; thread-safe.
#ifndef QUARRY_SERVICES_ANSWER_TEXT_UNITS_H_
#define QUARRY_SERVICES_ANSWER_TEXT_UNITS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace quarry::answer {

// The units of `text` (UTF-8; ill-formed bytes separate units), in order.
std::vector<std::string> TextUnits(absl::string_view text);

// A 64-bit hash of each unit of `text`, in order; equal units hash equal. Faster than
// TextUnits when only equality matters.
std::vector<uint64_t> TextUnitHashes(absl::string_view text);

}  // namespace quarry::answer

#endif  // QUARRY_SERVICES_ANSWER_TEXT_UNITS_H_
