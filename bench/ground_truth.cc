#include "bench/ground_truth.h"

#include <faiss/IndexFlat.h>

#include <algorithm>
#include <exception>

#include "absl/strings/str_cat.h"

namespace quarry::bench {

absl::StatusOr<std::vector<int64_t>> ExactNeighbours(const VectorSet& base,
                                                     const VectorSet& queries, int k) {
  std::vector<float> scores(queries.count * k);
  std::vector<faiss::Index::idx_t> labels(queries.count * k);
  try {
    faiss::IndexFlatIP exact(base.dimension);
    exact.add(static_cast<faiss::Index::idx_t>(base.count), base.values.data());
    exact.search(static_cast<faiss::Index::idx_t>(queries.count), queries.values.data(), k,
                 scores.data(), labels.data());
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("exact search failed: ", e.what()));
  }
  return std::vector<int64_t>(labels.begin(), labels.end());
}

double RecallAtK(const std::vector<int64_t>& found, const std::vector<int64_t>& exact, int k) {
  const size_t queries = exact.size() / k;
  if (queries == 0) return 0;
  size_t hits = 0;
  for (size_t q = 0; q < queries; ++q) {
    auto exact_begin = exact.begin() + q * k;
    auto exact_end = exact_begin + k;
    for (int i = 0; i < k; ++i) {
      const int64_t label = found[q * k + i];
      if (label >= 0 && std::find(exact_begin, exact_end, label) != exact_end) ++hits;
    }
  }
  return static_cast<double>(hits) / static_cast<double>(queries * k);
}

}  // namespace quarry::bench
