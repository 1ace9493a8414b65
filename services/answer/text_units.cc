#include "services/answer/text_units.h"

#include <unicode/uchar.h>
#include <unicode/uscript.h>
#include <unicode/utf8.h>
#include <xxhash.h>

namespace quarry::answer {
namespace {

bool IsUnspacedScript(UChar32 c) {
  UErrorCode error = U_ZERO_ERROR;
  const UScriptCode script = uscript_getScript(c, &error);
  if (U_FAILURE(error)) return false;
  return script == USCRIPT_HAN || script == USCRIPT_HIRAGANA || script == USCRIPT_KATAKANA ||
         script == USCRIPT_HANGUL;
}

void AppendLower(UChar32 c, std::string* word) {
  const UChar32 lower = u_tolower(c);
  char bytes[U8_MAX_LENGTH];
  int32_t length = 0;
  UBool error = false;
  U8_APPEND(bytes, length, U8_MAX_LENGTH, lower, error);
  if (!error) word->append(bytes, length);
}

// Calls `emit` with each unit of `text`, in a buffer reused between calls.
template <typename Emit>
void ForEachUnit(absl::string_view text, Emit emit) {
  std::string word;
  auto end_word = [&] {
    if (!word.empty()) emit(word);
    word.clear();
  };

  const auto* bytes = reinterpret_cast<const uint8_t*>(text.data());
  const int32_t length = static_cast<int32_t>(text.size());
  int32_t i = 0;
  while (i < length) {
    // ASCII, by far the most common case, without ICU.
    if (bytes[i] < 0x80) {
      const char c = static_cast<char>(bytes[i++]);
      if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
        word += c;
      } else if (c >= 'A' && c <= 'Z') {
        word += static_cast<char>(c - 'A' + 'a');
      } else {
        end_word();
      }
      continue;
    }
    UChar32 c;
    U8_NEXT(bytes, i, length, c);
    if (c < 0 || !u_isalnum(c)) {
      end_word();
    } else if (IsUnspacedScript(c)) {
      end_word();
      AppendLower(c, &word);
      end_word();
    } else {
      AppendLower(c, &word);
    }
  }
  end_word();
}

}  // namespace

std::vector<std::string> TextUnits(absl::string_view text) {
  std::vector<std::string> units;
  ForEachUnit(text, [&](const std::string& unit) { units.push_back(unit); });
  return units;
}

std::vector<uint64_t> TextUnitHashes(absl::string_view text) {
  std::vector<uint64_t> hashes;
  hashes.reserve(text.size() / 5);
  ForEachUnit(text, [&](const std::string& unit) {
    hashes.push_back(XXH3_64bits(unit.data(), unit.size()));
  });
  return hashes;
}

}  // namespace quarry::answer
