// Byte-pair encoding of one piece of text: the step after the pre-split pattern.
//
// A piece starts as its single bytes. The adjacent pair whose concatenation has the lowest rank
// is merged, the leftmost when ranks tie, until no adjacent pair is a token; the ranks of the
// parts left are the piece's token ids. This is tiktoken's merge order, so the output matches it
// exactly. Short pieces (almost all) are merged by scanning a small array for the lowest rank;
// long ones, where a scan per merge would be quadratic, through a priority queue.
//
// Stateless functions; safe to call from any thread.
#ifndef QUARRY_SERVICES_TEXT_BYTE_PAIR_MERGE_H_
#define QUARRY_SERVICES_TEXT_BYTE_PAIR_MERGE_H_

#include <cstddef>
#include <cstdint>
#include <vector>

#include "absl/strings/string_view.h"
#include "services/text/rank_table.h"

namespace quarry::text {

// Pieces longer than this many bytes are merged through the priority queue.
inline constexpr size_t kLongPieceBytes = 32;

// Appends the token ids of `piece` to `*ids`.
// REQUIRES: `piece` is not empty; every single byte has a rank in `ranks`.
void BytePairEncode(absl::string_view piece, const RankTable& ranks, std::vector<uint32_t>* ids);

// The two merge strategies, exposed so that tests can check they agree on any piece.
void BytePairEncodeByScan(absl::string_view piece, const RankTable& ranks,
                          std::vector<uint32_t>* ids);
void BytePairEncodeByQueue(absl::string_view piece, const RankTable& ranks,
                           std::vector<uint32_t>* ids);

}  // namespace quarry::text

#endif  // QUARRY_SERVICES_TEXT_BYTE_PAIR_MERGE_H_
