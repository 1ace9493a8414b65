// Exact nearest neighbours by brute force, and recall of approximate results against them.
// Labels are rows of the base set; -1 marks a missing result.
#ifndef QUARRY_BENCH_GROUND_TRUTH_H_
#define QUARRY_BENCH_GROUND_TRUTH_H_

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "bench/clustered_vectors.h"

namespace quarry::bench {

// The k rows of `base` with the highest inner product with each query: queries.count * k
// labels, best first per query. Uses every core.
absl::StatusOr<std::vector<int64_t>> ExactNeighbours(const VectorSet& base,
                                                     const VectorSet& queries, int k);

// Mean over queries of |found ∩ exact| / k, both queries * k labels laid out alike.
double RecallAtK(const std::vector<int64_t>& found, const std::vector<int64_t>& exact, int k);

}  // namespace quarry::bench

#endif  // QUARRY_BENCH_GROUND_TRUTH_H_
