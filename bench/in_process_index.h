// The baseline the shard is measured against: the same FAISS index_factory spec built and
// searched in this process, with no RPC, storage or visibility checks in between.
//
// Thread-safety: Search may be called from several threads at once, but not while UseSetting
// runs.
// Each searching thread should call omp_set_num_threads(1) first, as the shard does, so that
// concurrency comes from the callers rather than from OpenMP inside one query.
#ifndef QUARRY_BENCH_IN_PROCESS_INDEX_H_
#define QUARRY_BENCH_IN_PROCESS_INDEX_H_

#include <faiss/Index.h>

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "bench/clustered_vectors.h"
#include "bench/search_setting.h"

namespace quarry::bench {

class InProcessIndex {
 public:
  // Builds an inner-product index of `spec` over `base`; a spec that needs training is
  // trained on the first `train_count` rows (at least those the spec asks for). Labels are
  // base rows.
  static absl::StatusOr<std::unique_ptr<InProcessIndex>> Build(const std::string& spec,
                                                               const VectorSet& base,
                                                               size_t train_count);

  // Makes `setting` the index's own default as well as passing it with each search: FAISS
  // 1.7.3 reads efSearch for HNSW's stopping rule from the index, not from
  // SearchParametersHNSW, so a per-search efSearch alone is not fully applied.
  // REQUIRES: no Search runs concurrently.
  void UseSetting(const SearchSetting& setting);

  // The k best rows for one query, best first; -1 fills missing results.
  // REQUIRES: `labels` holds k values.
  [[nodiscard]] absl::Status Search(const float* query, int k, const SearchSetting& setting,
                                    int64_t* labels) const;

 private:
  explicit InProcessIndex(std::unique_ptr<faiss::Index> index);

  std::unique_ptr<faiss::Index> index_;
};

}  // namespace quarry::bench

#endif  // QUARRY_BENCH_IN_PROCESS_INDEX_H_
