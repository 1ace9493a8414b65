// Shingle sets of passages and how much two of them overlap, to find near-duplicates (the same
// paragraph in two documents, or two versions of a page) and to measure diversity for MMR.
//
// A shingle is a run of kShingleUnits consecutive text units (see text_units.h), hashed to
// 64 bits; a text with fewer units has the one shingle of all of them.
//
// Value types and pure functions; thread-safe.
#ifndef QUARRY_SERVICES_ANSWER_SHINGLES_H_
#define QUARRY_SERVICES_ANSWER_SHINGLES_H_

#include <cstdint>
#include <vector>

#include "absl/strings/string_view.h"

namespace quarry::answer {

inline constexpr int kShingleUnits = 3;

// Distinct shingle hashes, ascending.
using ShingleSet = std::vector<uint64_t>;

ShingleSet MakeShingles(absl::string_view text);

// |a ∩ b| / min(|a|, |b|), in [0, 1]: 1 when one text's shingles are all in the other, so a
// passage contained in a longer one counts as its duplicate. 0 when either is empty.
double ShingleOverlap(const ShingleSet& a, const ShingleSet& b);

// |a ∩ b| / |a ∪ b|, in [0, 1]; 0 when both are empty.
double ShingleJaccard(const ShingleSet& a, const ShingleSet& b);

}  // namespace quarry::answer

#endif  // QUARRY_SERVICES_ANSWER_SHINGLES_H_
