// The built-in embedder: deterministic, needs no model, runs anywhere.
//
// Signed feature hashing (each feature adds +w or -w to one of `dimension` buckets chosen by
// its XXH3 hash) over three kinds of features of NFKC-casefolded text, split into words by
// ICU's word breaker (which segments Chinese and Japanese with a dictionary):
//   - words, weight 1;
//   - pairs of neighbouring words, weight 0.5;
//   - character trigrams of each word with boundary marks ("<vacuum>" → "<va", "vac", ...),
//     or, for words in CJK scripts, each character and each pair of characters, weight 0.4.
// Repeated features count sublinearly (1 + ln tf) and the vector is L2-normalised, so the
// inner product of two embeddings is their cosine similarity.
//
// Thread-safe.
#ifndef QUARRY_SERVICES_EMBED_HASH_EMBEDDER_H_
#define QUARRY_SERVICES_EMBED_HASH_EMBEDDER_H_

#include "services/embed/embedder.h"

namespace quarry::embed {

class HashEmbedder final : public Embedder {
 public:
  static constexpr int kDefaultDimension = 384;

  // REQUIRES: dimension > 0.
  explicit HashEmbedder(int dimension = kDefaultDimension) : dimension_(dimension) {}

  std::string name() const override { return "hash"; }
  int dimension() const override { return dimension_; }

  // INVALID_ARGUMENT names the first text with no word in it (empty, or only punctuation).
  absl::StatusOr<std::vector<std::vector<float>>> Embed(
      const std::vector<std::string>& texts) override;

 private:
  const int dimension_;
};

}  // namespace quarry::embed

#endif  // QUARRY_SERVICES_EMBED_HASH_EMBEDDER_H_
