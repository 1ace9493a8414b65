// Shingle sets of passages and how much two of them overlap, to find near-duplicates (the same
// paragraph in two documents, or two versions of a page) and to measure diversity for MMR.
//
// A shingle is a run of kShingleUnits consecutive text units (see text_units.h), hashed to
// 64 bits; a text with fewer units has the one shingle of all of them.
//
// Value types and pure functions; thread-safe.
#ifndef QUARRY_SERVICES_ANSWER_SHINGLES_H_
#define QUARRY_SERVICES_ANSWER_SHINGLES_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/inlined_vector.h"
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

// Finds, among the shingle sets added so far, one that a new set overlaps (as ShingleOverlap)
// by at least a threshold, in time linear in the new set's size rather than in the number of
// sets held. Not thread-safe; one per packing.
class ShingleIndex {
 public:
  // Adds `set` under the next position: 0 for the first set added, then 1, ...
  void Add(const ShingleSet& set);

  // The position of the earliest added set whose overlap with `set` is at least `threshold`.
  std::optional<size_t> FindOverlapping(const ShingleSet& set, double threshold) const;

 private:
  absl::flat_hash_map<uint64_t, absl::InlinedVector<uint32_t, 1>> positions_;  // by shingle
  std::vector<size_t> sizes_;                                                  // by position
};

}  // namespace quarry::answer

#endif  // QUARRY_SERVICES_ANSWER_SHINGLES_H_
