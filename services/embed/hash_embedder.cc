#include "services/embed/hash_embedder.h"

#include <unicode/brkiter.h>
#include <unicode/normalizer2.h>
#include <unicode/uchar.h>
#include <unicode/unistr.h>
#include <unicode/uscript.h>
#include <xxhash.h>

#include <algorithm>
#include <cmath>
#include <memory>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"

namespace quarry::embed {
namespace {

constexpr float kWordWeight = 1.0f;
constexpr float kBigramWeight = 0.5f;
constexpr float kCharacterWeight = 0.4f;

bool IsCjk(UChar32 c) {
  UErrorCode error = U_ZERO_ERROR;
  UScriptCode script = uscript_getScript(c, &error);
  return script == USCRIPT_HAN || script == USCRIPT_HIRAGANA || script == USCRIPT_KATAKANA ||
         script == USCRIPT_HANGUL;
}

// Feature → summed weight for one text.
class Features {
 public:
  void Add(absl::string_view kind, const std::string& text, float weight) {
    Entry& entry = counts_[absl::StrCat(kind, text)];
    entry.weight = weight;
    ++entry.count;
  }

  // Signed hashing into `dimension` buckets, sublinear counts, L2-normalised. Features are
  // summed in the order of their hashes, not the map's, which differs between map instances,
  // so the same text always gives the same bits.
  std::vector<float> Project(int dimension) const {
    std::vector<std::pair<uint64_t, float>> terms;
    terms.reserve(counts_.size());
    for (const auto& [feature, entry] : counts_) {
      terms.emplace_back(XXH3_64bits(feature.data(), feature.size()),
                         entry.weight * (1.0f + std::log(static_cast<float>(entry.count))));
    }
    std::sort(terms.begin(), terms.end());
    std::vector<float> vector(dimension, 0.0f);
    for (const auto& [hash, value] : terms) {
      vector[hash % dimension] += (hash >> 63) ? -value : value;
    }
    double norm = 0;
    for (float x : vector) norm += static_cast<double>(x) * x;
    if (norm > 0) {
      const float scale = static_cast<float>(1.0 / std::sqrt(norm));
      for (float& x : vector) x *= scale;
    }
    return vector;
  }

  bool empty() const { return counts_.empty(); }

 private:
  struct Entry {
    float weight = 0;
    int count = 0;
  };
  absl::flat_hash_map<std::string, Entry> counts_;
};

std::string Utf8(const icu::UnicodeString& text) {
  std::string out;
  text.toUTF8String(out);
  return out;
}

absl::StatusOr<Features> Extract(const std::string& text, icu::BreakIterator& words) {
  UErrorCode error = U_ZERO_ERROR;
  const icu::Normalizer2* fold = icu::Normalizer2::getNFKCCasefoldInstance(error);
  if (U_FAILURE(error)) return absl::InternalError("ICU has no NFKC casefold data");
  icu::UnicodeString normalized = fold->normalize(
      icu::UnicodeString::fromUTF8(icu::StringPiece(text.data(), text.size())), error);
  if (U_FAILURE(error)) return absl::InternalError("ICU could not normalise the text");

  Features features;
  words.setText(normalized);
  std::string previous;
  for (int32_t start = words.first(), end = words.next(); end != icu::BreakIterator::DONE;
       start = end, end = words.next()) {
    if (words.getRuleStatus() == UBRK_WORD_NONE) continue;  // spaces and punctuation
    icu::UnicodeString word(normalized, start, end - start);
    const std::string utf8 = Utf8(word);
    features.Add("w:", utf8, kWordWeight);
    if (!previous.empty()) features.Add("b:", absl::StrCat(previous, " ", utf8), kBigramWeight);
    previous = utf8;

    if (IsCjk(word.char32At(0))) {
      for (int32_t i = 0; i < word.length(); i = word.moveIndex32(i, 1)) {
        const int32_t next = word.moveIndex32(i, 1);
        features.Add("c:", Utf8(icu::UnicodeString(word, i, next - i)), kCharacterWeight);
        if (next < word.length()) {
          const int32_t after = word.moveIndex32(next, 1);
          features.Add("c:", Utf8(icu::UnicodeString(word, i, after - i)), kCharacterWeight);
        }
      }
    } else {
      icu::UnicodeString marked = icu::UnicodeString(u"<") + word + u">";
      const int32_t count = marked.countChar32();
      for (int32_t n = 0; n + 3 <= count; ++n) {
        const int32_t from = marked.moveIndex32(0, n);
        const int32_t to = marked.moveIndex32(from, 3);
        features.Add("t:", Utf8(icu::UnicodeString(marked, from, to - from)), kCharacterWeight);
      }
    }
  }
  return features;
}

}  // namespace

absl::StatusOr<std::vector<std::vector<float>>> HashEmbedder::Embed(
    const std::vector<std::string>& texts) {
  UErrorCode error = U_ZERO_ERROR;
  std::unique_ptr<icu::BreakIterator> words(
      icu::BreakIterator::createWordInstance(icu::Locale::getRoot(), error));
  if (U_FAILURE(error)) return absl::InternalError("ICU has no word break rules");

  std::vector<std::vector<float>> vectors;
  vectors.reserve(texts.size());
  for (size_t i = 0; i < texts.size(); ++i) {
    absl::StatusOr<Features> features = Extract(texts[i], *words);
    if (!features.ok()) return features.status();
    if (features->empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("text ", i, " has no words to embed (it is empty or only punctuation)"));
    }
    vectors.push_back(features->Project(dimension_));
  }
  return vectors;
}

}  // namespace quarry::embed
