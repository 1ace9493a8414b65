// The byte-pair ranks of one encoding: every token's bytes and its rank, which is also its id.
//
// A RankTable owns one copy of all token bytes and two indexes over it: bytes to rank, for the
// merges while encoding, and rank to bytes, for decoding. It is read from tiktoken's text format,
// one token per line as "BASE64(bytes) RANK". Lower ranks merge first. Ranks need not be dense.
// Every single byte must have a rank, so that any byte string can be encoded.
//
// Lookups are the hot path of encoding. Tokens of one or two bytes, which most lookups while
// merging are, sit in an array indexed by the bytes (256 KiB). Tokens of up to seven bytes are
// keyed by their bytes packed into one integer: one probe, no string compare. Longer tokens are
// keyed by their bytes.
//
// Immutable after construction; safe to share between threads.
#ifndef QUARRY_SERVICES_TEXT_RANK_TABLE_H_
#define QUARRY_SERVICES_TEXT_RANK_TABLE_H_

#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace quarry::text {

class RankTable {
 public:
  // The rank Find() returns for bytes that are not a token.
  static constexpr uint32_t kNoRank = UINT32_MAX;

  // Parses a table in tiktoken's text format. INVALID_ARGUMENT names the first bad line, a
  // token or rank given twice, or a single byte without a rank.
  static absl::StatusOr<std::unique_ptr<RankTable>> Parse(absl::string_view contents);

  // Reads and parses the file at `path`; NOT_FOUND when it does not exist.
  static absl::StatusOr<std::unique_ptr<RankTable>> Load(const std::string& path);

  RankTable(const RankTable&) = delete;
  RankTable& operator=(const RankTable&) = delete;

  // The rank of the token whose bytes are `bytes`, or kNoRank.
  uint32_t Find(absl::string_view bytes) const {
    if (bytes.size() <= 2) return rank_of_short_bytes_[ShortIndex(bytes)];
    if (bytes.size() <= kMaxPackedBytes) {
      auto it = rank_of_packed_bytes_.find(PackBytes(bytes));
      return it == rank_of_packed_bytes_.end() ? kNoRank : it->second;
    }
    auto it = rank_of_long_bytes_.find(bytes);
    return it == rank_of_long_bytes_.end() ? kNoRank : it->second;
  }

  // The bytes of the token of rank `rank`; empty when no token has that rank.
  absl::string_view Bytes(uint32_t rank) const {
    if (rank >= bytes_of_rank_.size()) return {};
    const TokenSpan span = bytes_of_rank_[rank];
    return absl::string_view(token_bytes_.data() + span.offset, span.length);
  }

  // How many tokens the table holds.
  size_t size() const { return size_; }

 private:
  // Where a token's bytes sit in token_bytes_; length 0 for a rank without a token.
  struct TokenSpan {
    uint32_t offset = 0;
    uint32_t length = 0;
  };

  // The longest token whose bytes are packed into an integer key.
  static constexpr size_t kMaxPackedBytes = 7;

  // The bytes in the low bytes of the key, and their count in the top byte, so that keys of
  // tokens of different lengths differ. REQUIRES: bytes.size() <= kMaxPackedBytes.
  static uint64_t PackBytes(absl::string_view bytes) {
    uint64_t key = 0;
    std::memcpy(&key, bytes.data(), bytes.size());
    return key | static_cast<uint64_t>(bytes.size()) << 56;
  }

  // Where a token of one or two bytes sits in rank_of_short_bytes_: one-byte tokens after all
  // two-byte ones. REQUIRES: 1 <= bytes.size() <= 2.
  static size_t ShortIndex(absl::string_view bytes) {
    const auto byte = [&](size_t i) { return static_cast<uint8_t>(bytes[i]); };
    return bytes.size() == 1 ? (1 << 16) + byte(0) : byte(0) << 8 | byte(1);
  }

  RankTable() = default;

  // Makes `bytes` findable as `rank`; false when they already are. REQUIRES: `bytes` stays valid.
  bool Index(absl::string_view bytes, uint32_t rank);

  std::string token_bytes_;  // all tokens, back to back
  // Tokens of one or two bytes, by ShortIndex(); kNoRank where there is none.
  std::vector<uint32_t> rank_of_short_bytes_ = std::vector<uint32_t>((1 << 16) + 256, kNoRank);
  // Tokens of three to seven bytes, by PackBytes().
  absl::flat_hash_map<uint64_t, uint32_t> rank_of_packed_bytes_;
  // Longer tokens, by views into token_bytes_.
  absl::flat_hash_map<absl::string_view, uint32_t> rank_of_long_bytes_;
  std::vector<TokenSpan> bytes_of_rank_;  // indexed by rank
  size_t size_ = 0;                       // how many tokens
};

}  // namespace quarry::text

#endif  // QUARRY_SERVICES_TEXT_RANK_TABLE_H_
