#include "shard/faiss_index.h"

#include <faiss/IVFlib.h>
#include <faiss/IndexFlat.h>
#include <faiss/IndexHNSW.h>
#include <faiss/IndexIDMap.h>
#include <faiss/IndexIVF.h>
#include <faiss/IndexIVFPQ.h>
#include <faiss/impl/HNSW.h>
#include <faiss/index_factory.h>
#include <faiss/index_io.h>

#include <algorithm>
#include <exception>
#include <typeinfo>

#include "absl/strings/str_cat.h"

namespace quarry::shard {
namespace {

faiss::MetricType ToFaiss(Metric metric) {
  return metric == Metric::kInnerProduct ? faiss::METRIC_INNER_PRODUCT : faiss::METRIC_L2;
}

// FAISS reports errors as exceptions whose text includes the source location; keep the
// first line, which says what went wrong.
std::string Describe(const std::exception& e) {
  std::string what = e.what();
  size_t error = what.find("Error: ");
  if (error != std::string::npos) what = what.substr(error + 7);
  return what;
}

}  // namespace

absl::StatusOr<Metric> ParseMetric(absl::string_view name) {
  if (name == "ip" || name == "cosine") return Metric::kInnerProduct;
  if (name == "l2") return Metric::kL2;
  return absl::InvalidArgumentError(
      absl::StrCat("unknown metric '", name, "': use 'ip' (cosine on normalised vectors) or 'l2'"));
}

absl::string_view MetricName(Metric metric) {
  return metric == Metric::kInnerProduct ? "ip" : "l2";
}

FaissIndex::FaissIndex(std::unique_ptr<faiss::Index> index, Metric metric)
    : index_(std::move(index)), metric_(metric) {
  is_ivf_ = faiss::ivflib::try_extract_index_ivf(index_.get()) != nullptr;
  is_hnsw_ = dynamic_cast<faiss::IndexHNSW*>(index_.get()) != nullptr;
  supports_selector_ = dynamic_cast<faiss::IndexFlat*>(index_.get()) != nullptr || is_hnsw_ ||
                       dynamic_cast<faiss::IndexIVF*>(index_.get()) != nullptr;
  if (is_hnsw_) default_ef_search_ = static_cast<faiss::IndexHNSW*>(index_.get())->hnsw.efSearch;
}

void FaissIndex::SetDefaultEfSearch(int ef_search) {
  if (!is_hnsw_ || ef_search <= 0) return;
  std::unique_lock lock(ef_mu_);
  static_cast<faiss::IndexHNSW*>(index_.get())->hnsw.efSearch = ef_search;
  default_ef_search_ = ef_search;
}

FaissIndex::~FaissIndex() = default;

absl::StatusOr<std::unique_ptr<FaissIndex>> FaissIndex::Create(int dimension, Metric metric,
                                                               const std::string& spec) {
  if (dimension <= 0) {
    return absl::InvalidArgumentError(absl::StrCat("dimension must be positive, got ", dimension));
  }
  if (spec.find("IDMap") != std::string::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("index spec '", spec, "' maps ids itself; drop 'IDMap', the shard maps ids"));
  }
  try {
    std::unique_ptr<faiss::Index> index(
        faiss::index_factory(dimension, spec.c_str(), ToFaiss(metric)));
    if (index == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat("unknown index spec '", spec, "'"));
    }
    return std::unique_ptr<FaissIndex>(new FaissIndex(std::move(index), metric));
  } catch (const std::exception& e) {
    return absl::InvalidArgumentError(
        absl::StrCat("unknown or invalid index spec '", spec, "': ", Describe(e)));
  }
}

absl::StatusOr<std::unique_ptr<FaissIndex>> FaissIndex::Read(const std::string& path, int dimension,
                                                             Metric metric) {
  std::unique_ptr<faiss::Index> index;
  try {
    index.reset(faiss::read_index(path.c_str()));
  } catch (const std::exception& e) {
    return absl::DataLossError(absl::StrCat("cannot read index '", path, "': ", Describe(e)));
  }
  if (index->d != dimension || index->metric_type != ToFaiss(metric)) {
    return absl::DataLossError(absl::StrCat("index '", path, "' has dimension ", index->d,
                                            " or a metric other than ", MetricName(metric)));
  }
  return std::unique_ptr<FaissIndex>(new FaissIndex(std::move(index), metric));
}

std::string FaissIndex::type_name() const {
  std::string name = typeid(*index_).name();
  // Itanium mangling of faiss::Name is "N5faiss<len><Name>E".
  size_t start = name.find("faiss");
  if (start == std::string::npos) return name;
  start += 5;
  while (start < name.size() && name[start] >= '0' && name[start] <= '9') ++start;
  size_t end = name.find('E', start);
  return name.substr(start, end == std::string::npos ? std::string::npos : end - start);
}

size_t FaissIndex::recommended_training_size() const {
  if (index_->is_trained) return 0;
  size_t size = 1000;
  if (const faiss::IndexIVF* ivf = faiss::ivflib::try_extract_index_ivf(index_.get())) {
    size = std::max(size, 39 * ivf->nlist);
  }
  if (dynamic_cast<const faiss::IndexIVFPQ*>(faiss::ivflib::try_extract_index_ivf(index_.get())) !=
      nullptr) {
    size = std::max<size_t>(size, 39 * 256);
  }
  return size;
}

size_t FaissIndex::memory_bytes() const {
  size_t bytes = 0;
  if (const auto* flat = dynamic_cast<const faiss::IndexFlatCodes*>(index_.get())) {
    bytes += flat->codes.size();
  } else if (const auto* hnsw = dynamic_cast<const faiss::IndexHNSW*>(index_.get())) {
    bytes += hnsw->hnsw.neighbors.size() * sizeof(faiss::HNSW::storage_idx_t);
    bytes += hnsw->hnsw.offsets.size() * sizeof(size_t) + hnsw->hnsw.levels.size() * sizeof(int);
    if (const auto* storage = dynamic_cast<const faiss::IndexFlatCodes*>(hnsw->storage)) {
      bytes += storage->codes.size();
    }
  } else if (const faiss::IndexIVF* ivf = faiss::ivflib::try_extract_index_ivf(index_.get())) {
    bytes += ivf->ntotal * (ivf->code_size + sizeof(faiss::Index::idx_t));
    bytes += ivf->nlist * ivf->d * sizeof(float);
  } else {
    bytes += index_->ntotal * index_->d * sizeof(float);
  }
  return bytes;
}

absl::Status FaissIndex::Train(int64_t n, const float* vectors) {
  try {
    index_->train(n, vectors);
    return absl::OkStatus();
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("training on ", n, " vectors failed: ", Describe(e)));
  }
}

absl::Status FaissIndex::Add(int64_t n, const float* vectors, const int64_t* labels) {
  try {
    if (is_ivf_) {
      index_->add_with_ids(n, vectors, labels);
    } else {
      for (int64_t i = 0; i < n; ++i) {
        if (labels[i] != index_->ntotal + i) {
          return absl::InternalError("positional index given labels out of order");
        }
      }
      index_->add(n, vectors);
    }
    return absl::OkStatus();
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("adding ", n, " vectors failed: ", Describe(e)));
  }
}

absl::StatusOr<size_t> FaissIndex::Remove(absl::Span<const int64_t> labels) {
  if (!supports_remove()) {
    return absl::FailedPreconditionError(absl::StrCat(type_name(), " cannot remove vectors"));
  }
  try {
    faiss::IDSelectorBatch selector(labels.size(), labels.data());
    return index_->remove_ids(selector);
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("removing vectors failed: ", Describe(e)));
  }
}

absl::Status FaissIndex::Search(const float* query, int64_t k, const AnnParams& params,
                                const faiss::IDSelector* selector, float* scores,
                                int64_t* labels) const {
  if (selector != nullptr && !supports_selector_) {
    return absl::InternalError(absl::StrCat(type_name(), " cannot filter inside the search"));
  }
  try {
    faiss::SearchParametersIVF ivf_params;
    faiss::SearchParametersHNSW hnsw_params;
    faiss::SearchParameters plain_params;
    faiss::SearchParameters* chosen = nullptr;
    if (dynamic_cast<const faiss::IndexIVF*>(index_.get()) != nullptr) {
      const auto* ivf = static_cast<const faiss::IndexIVF*>(index_.get());
      ivf_params.nprobe = params.nprobe > 0 ? params.nprobe : ivf->nprobe;
      chosen = &ivf_params;
    } else if (is_hnsw_) {
      chosen = &hnsw_params;
    } else if (selector != nullptr) {
      chosen = &plain_params;
    }
    if (chosen != nullptr) chosen->sel = const_cast<faiss::IDSelector*>(selector);

    const int ef = params.ef_search > 0 ? params.ef_search : default_ef_search_;
    hnsw_params.efSearch = ef;
    if (!is_hnsw_ || ef == default_ef_search_) {
      std::shared_lock lock(ef_mu_);
      index_->search(1, query, k, scores, labels, chosen);
    } else {
      // Restores the default however the search ends.
      struct EfOverride {
        faiss::HNSW& hnsw;
        int restore;
        ~EfOverride() { hnsw.efSearch = restore; }
      };
      auto* hnsw = static_cast<faiss::IndexHNSW*>(index_.get());
      std::unique_lock lock(ef_mu_);
      EfOverride override_ef{hnsw->hnsw, default_ef_search_};
      hnsw->hnsw.efSearch = ef;
      index_->search(1, query, k, scores, labels, chosen);
    }
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("search failed: ", Describe(e)));
  }
  if (metric_ == Metric::kL2) {
    for (int64_t i = 0; i < k; ++i) scores[i] = -scores[i];
  }
  return absl::OkStatus();
}

absl::Status FaissIndex::Write(const std::string& path) const {
  try {
    faiss::write_index(index_.get(), path.c_str());
    return absl::OkStatus();
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("cannot write index '", path, "': ", Describe(e)));
  }
}

}  // namespace quarry::shard
