#include "services/text/utf8_repair.h"

#include <cstdint>
#include <cstring>

namespace quarry::text {
namespace {

constexpr absl::string_view kReplacementCharacter = "\xEF\xBF\xBD";

// The length of the well-formed character that starts at `text[i]`, or 0 when the bytes there
// are ill-formed. `*subpart` is then set to the length of the maximal ill-formed subpart: the
// longest prefix of a well-formed sequence present (at least one byte).
size_t CharacterLength(absl::string_view text, size_t i, size_t* subpart) {
  const auto byte = [&](size_t k) { return static_cast<uint8_t>(text[k]); };
  const uint8_t lead = byte(i);
  size_t length;
  // The allowed range of the second byte depends on the lead; later bytes are 80..BF.
  uint8_t second_low = 0x80, second_high = 0xBF;
  if (lead < 0x80) {
    return 1;
  } else if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3;
    if (lead == 0xE0) second_low = 0xA0;   // no overlong forms
    if (lead == 0xED) second_high = 0x9F;  // no surrogates
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4;
    if (lead == 0xF0) second_low = 0x90;   // no overlong forms
    if (lead == 0xF4) second_high = 0x8F;  // nothing above U+10FFFF
  } else {
    *subpart = 1;
    return 0;
  }

  for (size_t k = 1; k < length; ++k) {
    const uint8_t low = k == 1 ? second_low : 0x80;
    const uint8_t high = k == 1 ? second_high : 0xBF;
    if (i + k >= text.size() || byte(i + k) < low || byte(i + k) > high) {
      *subpart = k;
      return 0;
    }
  }
  return length;
}

// The length of the run of ASCII bytes at the start of `text`, eight bytes at a time.
size_t AsciiPrefix(absl::string_view text) {
  size_t i = 0;
  for (; i + 8 <= text.size(); i += 8) {
    uint64_t word;
    std::memcpy(&word, text.data() + i, sizeof(word));
    if (word & 0x8080808080808080ull) break;
  }
  while (i < text.size() && static_cast<uint8_t>(text[i]) < 0x80) ++i;
  return i;
}

}  // namespace

size_t WellFormedUtf8Prefix(absl::string_view text) {
  size_t i = 0;
  while (i < text.size()) {
    i += AsciiPrefix(text.substr(i));
    if (i == text.size()) break;
    size_t subpart = 0;
    const size_t length = CharacterLength(text, i, &subpart);
    if (length == 0) return i;
    i += length;
  }
  return text.size();
}

std::string ReplaceIllFormedUtf8(absl::string_view text) {
  std::string repaired;
  repaired.reserve(text.size() + 16);
  size_t i = 0;
  while (i < text.size()) {
    const size_t well_formed = WellFormedUtf8Prefix(text.substr(i));
    repaired.append(text.data() + i, well_formed);
    i += well_formed;
    if (i == text.size()) break;

    size_t subpart = 0;
    CharacterLength(text, i, &subpart);
    repaired.append(kReplacementCharacter.data(), kReplacementCharacter.size());
    i += subpart;
  }
  return repaired;
}

}  // namespace quarry::text
