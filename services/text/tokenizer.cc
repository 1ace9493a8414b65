#include "services/text/tokenizer.h"

#include <algorithm>
#include <cstdlib>
#include <limits>
#include <thread>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "services/runtime/log.h"
#include "services/text/byte_pair_merge.h"
#include "services/text/utf8_repair.h"

namespace quarry::text {

std::string Tokenizer::DefaultDataDir() {
  const char* configured = std::getenv("QUARRY_TIKTOKEN_DIR");
  if (configured != nullptr && configured[0] != '\0') return configured;
  return "/usr/local/share/quarry/tiktoken";
}

absl::StatusOr<std::unique_ptr<Tokenizer>> Tokenizer::Create(absl::string_view encoding_name,
                                                             const std::string& data_dir) {
  const Encoding* encoding = FindEncoding(encoding_name);
  if (encoding == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("unknown encoding \"", encoding_name, "\"; known: ", EncodingNames()));
  }

  const std::string path = absl::StrCat(data_dir, "/", encoding->name, ".tiktoken");
  absl::StatusOr<std::unique_ptr<RankTable>> ranks = RankTable::Load(path);
  if (!ranks.ok()) return ranks.status();
  if ((*ranks)->size() != encoding->token_count) {
    return absl::InvalidArgumentError(absl::StrCat(path, " holds ", (*ranks)->size(), " tokens; ",
                                                   encoding->name, " has ", encoding->token_count));
  }

  absl::StatusOr<std::unique_ptr<PieceSplitter>> splitter =
      PieceSplitter::Create(encoding->pattern);
  if (!splitter.ok()) return splitter.status();
  return std::unique_ptr<Tokenizer>(
      new Tokenizer(*encoding, *std::move(ranks), *std::move(splitter)));
}

Tokenizer::Tokenizer(const Encoding& encoding, std::unique_ptr<RankTable> ranks,
                     std::unique_ptr<PieceSplitter> splitter)
    : encoding_(encoding),
      ranks_(std::move(ranks)),
      splitter_(std::move(splitter)),
      cache_pool_(std::clamp<size_t>(std::thread::hardware_concurrency(), 1, kMaxPieceCaches)) {}

std::vector<uint32_t> Tokenizer::Encode(absl::string_view text) const {
  std::vector<uint32_t> ids;
  EncodeUpTo(text, std::numeric_limits<size_t>::max(), &ids);
  return ids;
}

size_t Tokenizer::Count(absl::string_view text) const { return Encode(text).size(); }

size_t Tokenizer::CountUpTo(absl::string_view text, size_t limit) const {
  if (limit == std::numeric_limits<size_t>::max()) return Count(text);
  std::vector<uint32_t> ids;
  EncodeUpTo(text, limit, &ids);
  return std::min(ids.size(), limit + 1);
}

void Tokenizer::EncodeUpTo(absl::string_view text, size_t max_ids,
                           std::vector<uint32_t>* ids) const {
  ids->reserve(std::min(text.size() / 4, max_ids) + 1);
  if (WellFormedUtf8Prefix(text) == text.size()) {
    EncodeWellFormed(text, max_ids, ids);
  } else {
    EncodeWellFormed(ReplaceIllFormedUtf8(text), max_ids, ids);
  }
}

void Tokenizer::EncodeWellFormed(absl::string_view text, size_t max_ids,
                                 std::vector<uint32_t>* ids) const {
  PieceCachePool::Lease lease = cache_pool_.Borrow();
  PieceCache* const cache = lease.cache();
  size_t split_bytes = 0;
  absl::Status split = splitter_->Split(text, [&](absl::string_view piece) {
    split_bytes = piece.data() + piece.size() - text.data();
    if (cache != nullptr) {
      absl::Span<const uint32_t> cached = cache->Find(piece);
      if (!cached.empty()) {
        ids->insert(ids->end(), cached.begin(), cached.end());
        return ids->size() <= max_ids;
      }
    }

    const size_t first_id = ids->size();
    const uint32_t whole = ranks_->Find(piece);
    if (whole != RankTable::kNoRank) {
      ids->push_back(whole);
    } else {
      BytePairEncode(piece, *ranks_, ids);
    }
    if (cache != nullptr) {
      cache->Insert(piece, absl::MakeConstSpan(*ids).subspan(first_id));
    }
    return ids->size() <= max_ids;
  });
  if (!split.ok()) {
    // Not expected with the encodings' patterns. Should it happen, every byte of the text still
    // gets a token, by merging what is left as one piece, and the divergence is logged.
    runtime::Logger("tokenizer")
        ->error("{}; merging the rest of the text as one piece", split.message());
    if (split_bytes < text.size() && ids->size() <= max_ids)
      BytePairEncode(text.substr(split_bytes), *ranks_, ids);
  }
}

absl::StatusOr<std::string> Tokenizer::Decode(absl::Span<const uint32_t> ids) const {
  std::string bytes;
  for (size_t i = 0; i < ids.size(); ++i) {
    const absl::string_view token = ranks_->Bytes(ids[i]);
    if (token.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("id ", ids[i], " at position ", i, " is not a token of ", encoding_.name));
    }
    bytes.append(token.data(), token.size());
  }
  return bytes;
}

}  // namespace quarry::text
