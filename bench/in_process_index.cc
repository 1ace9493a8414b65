#include "bench/in_process_index.h"

#include <faiss/IVFlib.h>
#include <faiss/IndexHNSW.h>
#include <faiss/IndexIVF.h>
#include <faiss/impl/HNSW.h>
#include <faiss/index_factory.h>

#include <algorithm>
#include <exception>
#include <vector>

#include "absl/strings/str_cat.h"

namespace quarry::bench {

InProcessIndex::InProcessIndex(std::unique_ptr<faiss::Index> index) : index_(std::move(index)) {}

absl::StatusOr<std::unique_ptr<InProcessIndex>> InProcessIndex::Build(const std::string& spec,
                                                                      const VectorSet& base,
                                                                      size_t train_count) {
  try {
    std::unique_ptr<faiss::Index> index(
        faiss::index_factory(base.dimension, spec.c_str(), faiss::METRIC_INNER_PRODUCT));
    if (!index->is_trained) {
      size_t wanted = train_count;
      if (const faiss::IndexIVF* ivf = faiss::ivflib::try_extract_index_ivf(index.get())) {
        wanted = std::max(wanted, 39 * ivf->nlist);
      }
      const size_t n = std::min(wanted, base.count);
      index->train(static_cast<faiss::Index::idx_t>(n), base.values.data());
    }
    index->add(static_cast<faiss::Index::idx_t>(base.count), base.values.data());
    return std::unique_ptr<InProcessIndex>(new InProcessIndex(std::move(index)));
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("building '", spec, "' in process: ", e.what()));
  }
}

void InProcessIndex::UseSetting(const SearchSetting& setting) {
  if (auto* ivf = dynamic_cast<faiss::IndexIVF*>(index_.get()); ivf && setting.nprobe > 0) {
    ivf->nprobe = setting.nprobe;
  }
  if (auto* hnsw = dynamic_cast<faiss::IndexHNSW*>(index_.get()); hnsw && setting.ef_search > 0) {
    hnsw->hnsw.efSearch = setting.ef_search;
  }
}

absl::Status InProcessIndex::Search(const float* query, int k, const SearchSetting& setting,
                                    int64_t* labels) const {
  faiss::SearchParametersIVF ivf_params;
  faiss::SearchParametersHNSW hnsw_params;
  const faiss::SearchParameters* params = nullptr;
  if (setting.nprobe > 0 && dynamic_cast<const faiss::IndexIVF*>(index_.get()) != nullptr) {
    ivf_params.nprobe = setting.nprobe;
    params = &ivf_params;
  } else if (setting.ef_search > 0 &&
             dynamic_cast<const faiss::IndexHNSW*>(index_.get()) != nullptr) {
    hnsw_params.efSearch = setting.ef_search;
    params = &hnsw_params;
  }

  std::vector<float> scores(k);
  std::vector<faiss::Index::idx_t> found(k);
  try {
    index_->search(1, query, k, scores.data(), found.data(), params);
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("in-process search: ", e.what()));
  }
  std::copy(found.begin(), found.end(), labels);
  return absl::OkStatus();
}

}  // namespace quarry::bench
