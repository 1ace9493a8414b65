// One FAISS index built from an index_factory spec ("Flat", "IVF1024,Flat", "IVF4096,PQ32",
// "HNSW32", ...), with every FAISS call wrapped so that no exception escapes.
//
// Labels: IVF-family indexes store the labels given to Add; every other index numbers its
// vectors by position, so Add must be given ntotal(), ntotal()+1, ... in order
// (labels_are_positions()). Vectors are float32, `n * dimension()` values row by row.
//
// Not thread-safe for writes: Train, Add and Remove need exclusive access; Search and Write
// may run concurrently with each other.
#ifndef QUARRY_SHARD_FAISS_INDEX_H_
#define QUARRY_SHARD_FAISS_INDEX_H_

#include <faiss/Index.h>
#include <faiss/impl/IDSelector.h>

#include <cstdint>
#include <memory>
#include <shared_mutex>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace quarry::shard {

enum class Metric { kInnerProduct, kL2 };

// "ip" or "l2".
absl::StatusOr<Metric> ParseMetric(absl::string_view name);
absl::string_view MetricName(Metric metric);

// Per-search knobs; 0 means the index's default.
struct AnnParams {
  int nprobe = 0;
  int ef_search = 0;
};

class FaissIndex {
 public:
  // Builds an empty index. INVALID_ARGUMENT names the spec when FAISS rejects it or when it
  // maps ids itself ("IDMap"): the shard assigns labels.
  static absl::StatusOr<std::unique_ptr<FaissIndex>> Create(int dimension, Metric metric,
                                                            const std::string& spec);

  // Reads an index written by Write and checks that it has the expected shape.
  static absl::StatusOr<std::unique_ptr<FaissIndex>> Read(const std::string& path, int dimension,
                                                          Metric metric);

  FaissIndex(const FaissIndex&) = delete;
  FaissIndex& operator=(const FaissIndex&) = delete;
  ~FaissIndex();

  int dimension() const { return index_->d; }
  int64_t ntotal() const { return index_->ntotal; }
  bool is_trained() const { return index_->is_trained; }
  bool labels_are_positions() const { return !is_ivf_; }
  // True when Remove is supported and keeps the labels of the other vectors.
  bool supports_remove() const { return is_ivf_; }
  // True when Search honours an IDSelector inside the index.
  bool supports_selector() const { return supports_selector_; }
  // The class of the FAISS index, e.g. "IndexHNSWFlat".
  std::string type_name() const;
  // How many vectors training wants before it gives good clusters; 0 when none is needed.
  size_t recommended_training_size() const;
  // Approximate bytes held by the index's codes and structure.
  size_t memory_bytes() const;

  // The efSearch of HNSW searches that ask for none. FAISS 1.7.3 reads efSearch from the index,
  // not from the search parameters, so a search asking for another value sets it on the index
  // for its duration, alone; searches at the default run side by side.
  void SetDefaultEfSearch(int ef_search);

  [[nodiscard]] absl::Status Train(int64_t n, const float* vectors);
  [[nodiscard]] absl::Status Add(int64_t n, const float* vectors, const int64_t* labels);
  // Removes the vectors with these labels; returns how many were found.
  [[nodiscard]] absl::StatusOr<size_t> Remove(absl::Span<const int64_t> labels);

  // The k best labels for one query, best first. `scores` are higher-is-better (inner
  // product, or negated squared L2); missing results have label -1. `selector` may be null.
  // REQUIRES: `scores` and `labels` hold k values each.
  [[nodiscard]] absl::Status Search(const float* query, int64_t k, const AnnParams& params,
                                    const faiss::IDSelector* selector, float* scores,
                                    int64_t* labels) const;

  [[nodiscard]] absl::Status Write(const std::string& path) const;

 private:
  FaissIndex(std::unique_ptr<faiss::Index> index, Metric metric);

  std::unique_ptr<faiss::Index> index_;
  const Metric metric_;
  bool is_ivf_ = false;
  bool is_hnsw_ = false;
  bool supports_selector_ = false;
  // Shared by searches at the default efSearch, exclusive for one at another value.
  mutable std::shared_mutex ef_mu_;
  int default_ef_search_ = 0;
};

}  // namespace quarry::shard

#endif  // QUARRY_SHARD_FAISS_INDEX_H_
