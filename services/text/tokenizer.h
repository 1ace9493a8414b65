// Exact OpenAI tokenizers (cl100k_base, o200k_base): text to token ids and back, with the same
// ids as OpenAI's tiktoken for any text.
//
// A Tokenizer owns one encoding's rank table and its compiled pre-split pattern. Encoding splits
// the text with the pattern, looks each piece up as a whole token, and byte-pair merges the
// pieces that are not. Text that looks like a special token ("<|endoftext|>") is ordinary text
// here and encodes to ordinary tokens; special tokens are never produced. Ill-formed UTF-8 is
// encoded as if each maximal ill-formed subpart were U+FFFD (see utf8_repair.h), which is what
// tiktoken sees when the caller decodes such bytes with replacement.
//
// Rank tables are read from `<data dir>/<encoding>.tiktoken`, in tiktoken's own format;
// `scripts/bootstrap` writes them. The data directory is $QUARRY_TIKTOKEN_DIR when set, else
// /usr/local/share/quarry/tiktoken.
//
// Short pieces already seen are looked up in a small cache rather than the large rank table;
// each call borrows a cache of its own from a pool, so calls on many threads do not share one.
//
// Immutable after Create() but for those caches; every method may run on many threads at once.
#ifndef QUARRY_SERVICES_TEXT_TOKENIZER_H_
#define QUARRY_SERVICES_TEXT_TOKENIZER_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "services/text/encodings.h"
#include "services/text/piece_cache.h"
#include "services/text/piece_splitter.h"
#include "services/text/rank_table.h"

namespace quarry::text {

class Tokenizer {
 public:
  // The directory rank tables are read from unless the caller names one.
  static std::string DefaultDataDir();

  // Loads `encoding` ("cl100k_base" or "o200k_base") from `data_dir`. INVALID_ARGUMENT for an
  // unknown encoding or a malformed table (also one of the wrong size), NOT_FOUND when the
  // table file is missing.
  static absl::StatusOr<std::unique_ptr<Tokenizer>> Create(absl::string_view encoding,
                                                           const std::string& data_dir);
  static absl::StatusOr<std::unique_ptr<Tokenizer>> Create(absl::string_view encoding) {
    return Create(encoding, DefaultDataDir());
  }

  Tokenizer(const Tokenizer&) = delete;
  Tokenizer& operator=(const Tokenizer&) = delete;

  // The token ids of `text` (any bytes).
  std::vector<uint32_t> Encode(absl::string_view text) const;

  // How many tokens Encode(text) returns.
  size_t Count(absl::string_view text) const;

  // As Count(text) when that is at most `limit`, else `limit` + 1. Work stops soon after the
  // limit is passed, so asking whether a long text fits in a small room is cheap.
  size_t CountUpTo(absl::string_view text, size_t limit) const;

  // The bytes of the tokens `ids`, concatenated. They are not always well-formed UTF-8: a
  // character may be split across tokens, and so across a cut in `ids`. INVALID_ARGUMENT names
  // the first id that is not an ordinary token of this encoding.
  absl::StatusOr<std::string> Decode(absl::Span<const uint32_t> ids) const;

  // The name of the encoding, as given to Create().
  absl::string_view encoding_name() const { return encoding_.name; }

 private:
  Tokenizer(const Encoding& encoding, std::unique_ptr<RankTable> ranks,
            std::unique_ptr<PieceSplitter> splitter);

  // Appends the ids of `text`, stopping after the piece that takes `ids` past `max_ids`.
  // REQUIRES: `text` is well-formed UTF-8.
  void EncodeWellFormed(absl::string_view text, size_t max_ids, std::vector<uint32_t>* ids) const;

  // Encode(text) as far as EncodeWellFormed goes with `max_ids`.
  void EncodeUpTo(absl::string_view text, size_t max_ids, std::vector<uint32_t>* ids) const;

  const Encoding& encoding_;
  const std::unique_ptr<RankTable> ranks_;
  const std::unique_ptr<PieceSplitter> splitter_;
  // One cache per core, up to kMaxPieceCaches; concurrent calls each borrow their own.
  static constexpr size_t kMaxPieceCaches = 16;
  mutable PieceCachePool cache_pool_;
};

}  // namespace quarry::text

#endif  // QUARRY_SERVICES_TEXT_TOKENIZER_H_
