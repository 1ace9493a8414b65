#include "shard/vector_index.h"

#include <faiss/utils/distances.h>

#include <algorithm>
#include <random>

#include "absl/strings/str_cat.h"
#include "services/runtime/log.h"

namespace quarry::shard {
namespace {

// Orders hits best first; equal scores by ascending chunk id so results are deterministic.
bool Better(const ScoredChunk& a, const ScoredChunk& b) {
  if (a.score != b.score) return a.score > b.score;
  return a.chunk_id < b.chunk_id;
}

// Keeps the k best of what it is offered.
class TopK {
 public:
  explicit TopK(size_t k) : k_(k) {}

  // True when a hit with this score could enter.
  bool Admits(float score) const { return heap_.size() < k_ || score >= heap_.front().score; }

  void Offer(ScoredChunk hit) {
    if (heap_.size() < k_) {
      heap_.push_back(std::move(hit));
      std::push_heap(heap_.begin(), heap_.end(), Better);
    } else if (Better(hit, heap_.front())) {
      std::pop_heap(heap_.begin(), heap_.end(), Better);
      heap_.back() = std::move(hit);
      std::push_heap(heap_.begin(), heap_.end(), Better);
    }
  }

  std::vector<ScoredChunk> Take() {
    std::sort_heap(heap_.begin(), heap_.end(), Better);
    return std::move(heap_);
  }

 private:
  size_t k_;
  std::vector<ScoredChunk> heap_;  // worst on top
};

// Admits labels of the main index whose chunk is live and passes the filter.
class LiveChunkSelector : public faiss::IDSelector {
 public:
  using Predicate = std::function<bool(int64_t)>;
  explicit LiveChunkSelector(Predicate predicate) : predicate_(std::move(predicate)) {}
  bool is_member(faiss::Index::idx_t label) const override { return predicate_(label); }

 private:
  Predicate predicate_;
};

}  // namespace

absl::string_view IndexOperationName(IndexOperation operation) {
  switch (operation) {
    case IndexOperation::kTrain:
      return "train";
    case IndexOperation::kRebuild:
      return "rebuild";
    case IndexOperation::kSnapshot:
      return "snapshot";
  }
  return "unknown";
}

VectorIndex::VectorIndex(const VectorIndexOptions& options, bool spec_needs_training,
                         size_t train_min)
    : options_(options), spec_needs_training_(spec_needs_training), train_min_(train_min) {}

VectorIndex::~VectorIndex() = default;

absl::StatusOr<std::unique_ptr<VectorIndex>> VectorIndex::Create(
    const VectorIndexOptions& options) {
  absl::StatusOr<std::unique_ptr<FaissIndex>> probe =
      FaissIndex::Create(options.dimension, options.metric, options.spec);
  if (!probe.ok()) return probe.status();

  const bool needs_training = !(*probe)->is_trained();
  const size_t train_min =
      options.train_min > 0 ? options.train_min : (*probe)->recommended_training_size();
  std::unique_ptr<VectorIndex> index(new VectorIndex(options, needs_training, train_min));
  std::unique_lock lock(index->mu_);
  if (index->spec_needs_training_) {
    absl::Status status = index->ResetMain();
    if (!status.ok()) return status;
  } else {
    index->main_ = *std::move(probe);
    index->main_->SetDefaultEfSearch(options.default_ef_search);
    index->main_is_spec_ = true;
  }
  return index;
}

absl::Status VectorIndex::ResetMain() {
  absl::StatusOr<std::unique_ptr<FaissIndex>> flat =
      FaissIndex::Create(options_.dimension, options_.metric, "Flat");
  if (!flat.ok()) return flat.status();
  main_ = *std::move(flat);
  main_is_spec_ = false;
  return absl::OkStatus();
}

void VectorIndex::Apply(absl::Span<const IndexUpdate> updates) {
  std::unique_lock lock(mu_);
  ++version_;
  for (const IndexUpdate& update : updates) {
    for (uint64_t id : update.removed) RemoveEntryLocked(id);
    for (const v1::Chunk* chunk : update.added) {
      RemoveEntryLocked(chunk->id());
      AddEntryLocked(*chunk);
    }
    applied_sequence_ = std::max(applied_sequence_, update.sequence);
  }
}

void VectorIndex::AddEntryLocked(const v1::Chunk& chunk) {
  auto [it, inserted] = entries_.try_emplace(chunk.id());
  Entry& entry = it->second;
  entry.chunk_id = chunk.id();
  entry.attrs = MakeChunkAttrs(chunk, pool_);
  ++tenant_chunks_[entry.attrs.tenant];
  if (!entry.attrs.groups.empty()) ++acl_chunks_;
  AddBufferedLocked(entry, chunk.vector().data());
}

void VectorIndex::AddBufferedLocked(Entry& entry, const float* vector) {
  entry.slot = -1;
  entry.buffer_pos = static_cast<int64_t>(buffer_entries_.size());
  buffer_entries_.push_back(&entry);
  buffer_vectors_.insert(buffer_vectors_.end(), vector, vector + options_.dimension);
}

void VectorIndex::RemoveEntryLocked(uint64_t chunk_id) {
  auto it = entries_.find(chunk_id);
  if (it == entries_.end()) return;
  Entry& entry = it->second;
  if (entry.slot >= 0) {
    slot_entries_[entry.slot] = nullptr;
    dead_slots_.push_back(entry.slot);
    --main_live_;
  } else {
    // Swap-remove from the buffer: the last row takes the freed place.
    const size_t d = options_.dimension;
    const size_t pos = entry.buffer_pos;
    const size_t last = buffer_entries_.size() - 1;
    if (pos != last) {
      std::copy_n(buffer_vectors_.begin() + last * d, d, buffer_vectors_.begin() + pos * d);
      buffer_entries_[pos] = buffer_entries_[last];
      buffer_entries_[pos]->buffer_pos = pos;
    }
    buffer_entries_.pop_back();
    buffer_vectors_.resize(last * d);
  }
  if (--tenant_chunks_[entry.attrs.tenant] == 0) tenant_chunks_.erase(entry.attrs.tenant);
  if (!entry.attrs.groups.empty()) --acl_chunks_;
  entries_.erase(it);
}

bool VectorIndex::AllVisibleLocked(const ChunkFilter& filter,
                                   const v1::Principal& principal) const {
  if (filter.has_conditions() || acl_chunks_ > 0 || tenant_chunks_.size() != 1) return false;
  return pool_.Get(tenant_chunks_.begin()->first) == principal.tenant();
}

ScoredChunk VectorIndex::MakeScoredLocked(const Entry& entry, float score) const {
  ScoredChunk hit;
  hit.chunk_id = entry.chunk_id;
  hit.score = score;
  hit.doc_id = pool_.Get(entry.attrs.doc);
  hit.tenant = pool_.Get(entry.attrs.tenant);
  hit.ordinal = entry.attrs.ordinal;
  return hit;
}

absl::StatusOr<IndexSearchResult> VectorIndex::Search(const float* query, int k,
                                                      const v1::Principal& principal,
                                                      const v1::Filter& filter,
                                                      AnnParams params) const {
  std::shared_lock lock(mu_);
  IndexSearchResult result;
  result.sequence = applied_sequence_;
  ChunkFilter compiled(principal, filter, pool_);
  if (compiled.matches_nothing()) return result;
  const bool all_visible = AllVisibleLocked(compiled, principal);
  const size_t d = options_.dimension;
  TopK top(k);

  // The buffer is scanned exactly.
  for (size_t i = 0; i < buffer_entries_.size(); ++i) {
    const Entry& entry = *buffer_entries_[i];
    if (!all_visible && !compiled.Matches(entry.attrs)) continue;
    const float* vector = buffer_vectors_.data() + i * d;
    float score = options_.metric == Metric::kInnerProduct
                      ? faiss::fvec_inner_product(query, vector, d)
                      : -faiss::fvec_L2sqr(query, vector, d);
    ++result.candidates;
    if (top.Admits(score)) top.Offer(MakeScoredLocked(entry, score));
  }

  if (main_live_ > 0) {
    if (params.nprobe <= 0) params.nprobe = options_.default_nprobe;
    if (params.ef_search <= 0) params.ef_search = options_.default_ef_search;
    auto admits = [&](int64_t label) {
      if (label < 0 || label >= static_cast<int64_t>(slot_entries_.size())) return false;
      const Entry* entry = slot_entries_[label];
      return entry != nullptr && (all_visible || compiled.Matches(entry->attrs));
    };

    if (main_->supports_selector()) {
      // Filter inside FAISS; a selector is needed only when something is hidden.
      LiveChunkSelector selector(admits);
      const bool needs_selector = !all_visible || !dead_slots_.empty();
      std::vector<float> scores(k);
      std::vector<int64_t> labels(k);
      absl::Status status = main_->Search(query, k, params, needs_selector ? &selector : nullptr,
                                          scores.data(), labels.data());
      if (!status.ok()) return status;
      for (int i = 0; i < k; ++i) {
        if (!admits(labels[i])) continue;
        ++result.candidates;
        top.Offer(MakeScoredLocked(*slot_entries_[labels[i]], scores[i]));
      }
    } else {
      // Over-fetch and filter afterwards, widening until k pass or the index is exhausted.
      const int64_t total = main_->ntotal();
      int64_t fetch = std::min<int64_t>(total, std::max(2 * k, 32));
      while (true) {
        std::vector<float> scores(fetch);
        std::vector<int64_t> labels(fetch);
        absl::Status status =
            main_->Search(query, fetch, params, nullptr, scores.data(), labels.data());
        if (!status.ok()) return status;
        int passed = 0;
        for (int64_t i = 0; i < fetch; ++i) {
          if (admits(labels[i])) ++passed;
        }
        if (passed >= k || fetch >= total) {
          for (int64_t i = 0; i < fetch; ++i) {
            if (!admits(labels[i])) continue;
            ++result.candidates;
            top.Offer(MakeScoredLocked(*slot_entries_[labels[i]], scores[i]));
          }
          break;
        }
        fetch = std::min(total, fetch * 4);
      }
    }
  }
  result.hits = top.Take();
  return result;
}

absl::StatusOr<size_t> VectorIndex::IndexBuffered(std::chrono::microseconds budget) {
  std::lock_guard maintenance(maintenance_mu_);
  std::unique_lock lock(mu_);
  const size_t n = std::min(move_batch_, buffer_entries_.size());
  if (n == 0) return 0;
  const size_t d = options_.dimension;
  const size_t first = buffer_entries_.size() - n;

  std::vector<int64_t> labels(n);
  const int64_t base = static_cast<int64_t>(slot_entries_.size());
  for (size_t i = 0; i < n; ++i) labels[i] = base + i;

  auto start = std::chrono::steady_clock::now();
  absl::Status status = main_->Add(n, buffer_vectors_.data() + first * d, labels.data());
  if (!status.ok()) return status;
  auto elapsed = std::chrono::steady_clock::now() - start;

  for (size_t i = 0; i < n; ++i) {
    Entry* entry = buffer_entries_[first + i];
    entry->slot = labels[i];
    entry->buffer_pos = -1;
    slot_entries_.push_back(entry);
  }
  main_live_ += n;
  ++version_;
  buffer_entries_.resize(first);
  buffer_vectors_.resize(first * d);

  // Size the next batch from this one's rate so that it holds the lock for about `budget`.
  const double per_vector = std::max<double>(
      1.0, std::chrono::duration<double, std::nano>(elapsed).count() / static_cast<double>(n));
  const double fits = std::chrono::duration<double, std::nano>(budget).count() / per_vector;
  move_batch_ = static_cast<size_t>(std::clamp(fits, 16.0, 65536.0));
  return n;
}

bool VectorIndex::NeedsTrainingLocked() const {
  if (!spec_needs_training_ || main_is_spec_) return false;
  return main_live_ >= static_cast<int64_t>(std::max<size_t>(train_min_, 1));
}

bool VectorIndex::TooManyTombstonesLocked() const {
  if (main_->supports_remove()) return false;
  const double dead = static_cast<double>(dead_slots_.size());
  return dead >= options_.rebuild_min_tombstones &&
         dead >= options_.rebuild_tombstone_ratio * static_cast<double>(main_->ntotal());
}

bool VectorIndex::NeedsRebuild() const {
  std::shared_lock lock(mu_);
  return NeedsTrainingLocked() || TooManyTombstonesLocked();
}

absl::Status VectorIndex::Rebuild(const VectorSource& source) {
  std::lock_guard maintenance(maintenance_mu_);
  auto log = runtime::Logger("index");
  auto start = std::chrono::steady_clock::now();

  // 1. What the main index holds now. Only maintenance adds to it, so this stays complete.
  std::vector<uint64_t> ids;
  std::vector<int64_t> old_slots;
  bool train;
  {
    std::shared_lock lock(mu_);
    train = NeedsTrainingLocked();
    ids.reserve(main_live_);
    old_slots.reserve(main_live_);
    for (size_t slot = 0; slot < slot_entries_.size(); ++slot) {
      if (slot_entries_[slot] == nullptr) continue;
      ids.push_back(slot_entries_[slot]->chunk_id);
      old_slots.push_back(slot);
    }
  }

  // 2. Their vectors from the source of truth; chunks deleted meanwhile are left out.
  const size_t d = options_.dimension;
  std::vector<float> vectors;
  std::vector<bool> found;
  absl::Status status = source(ids, vectors, found);
  if (!status.ok()) return status;
  size_t kept = 0;
  for (size_t i = 0; i < ids.size(); ++i) {
    if (!found[i]) continue;
    ids[kept] = ids[i];
    old_slots[kept] = old_slots[i];
    std::copy_n(vectors.begin() + i * d, d, vectors.begin() + kept * d);
    ++kept;
  }
  ids.resize(kept);
  old_slots.resize(kept);
  vectors.resize(kept * d);

  // 3. A new index: the spec's when it is or becomes trained, else the flat stand-in.
  bool use_spec;
  {
    std::shared_lock lock(mu_);
    use_spec = main_is_spec_ || train;
  }
  absl::StatusOr<std::unique_ptr<FaissIndex>> fresh =
      FaissIndex::Create(options_.dimension, options_.metric, use_spec ? options_.spec : "Flat");
  if (!fresh.ok()) return fresh.status();
  (*fresh)->SetDefaultEfSearch(options_.default_ef_search);
  if (!(*fresh)->is_trained()) {
    size_t sample_size =
        std::min(kept, std::max(train_min_, (*fresh)->recommended_training_size()));
    std::vector<size_t> order(kept);
    for (size_t i = 0; i < kept; ++i) order[i] = i;
    std::mt19937_64 rng(kept);
    std::shuffle(order.begin(), order.end(), rng);
    std::vector<float> sample(sample_size * d);
    for (size_t i = 0; i < sample_size; ++i) {
      std::copy_n(vectors.begin() + order[i] * d, d, sample.begin() + i * d);
    }
    status = (*fresh)->Train(sample_size, sample.data());
    if (!status.ok()) return status;
  }
  std::vector<int64_t> labels(kept);
  for (size_t i = 0; i < kept; ++i) labels[i] = i;
  constexpr size_t kAddBatch = 65536;
  for (size_t begin = 0; begin < kept; begin += kAddBatch) {
    size_t n = std::min(kAddBatch, kept - begin);
    status = (*fresh)->Add(n, vectors.data() + begin * d, labels.data() + begin);
    if (!status.ok()) return status;
  }

  // 4. Swap. A chunk removed or replaced while building leaves a tombstone behind.
  std::unique_lock lock(mu_);
  std::vector<Entry*> slot_entries(kept, nullptr);
  std::vector<int64_t> dead;
  int64_t live = 0;
  for (size_t i = 0; i < kept; ++i) {
    auto it = entries_.find(ids[i]);
    if (it != entries_.end() && it->second.slot == old_slots[i]) {
      it->second.slot = i;
      slot_entries[i] = &it->second;
      ++live;
    } else {
      dead.push_back(i);
    }
  }
  main_ = *std::move(fresh);
  ++version_;
  main_is_spec_ = use_spec;
  slot_entries_ = std::move(slot_entries);
  dead_slots_ = std::move(dead);
  main_live_ = live;
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  log->info("{} {} index with {} vectors in {:.2f}s ({} tombstones left)",
            train ? "trained" : "rebuilt", main_->type_name(), kept, seconds, dead_slots_.size());
  if (options_.on_operation) {
    options_.on_operation(train ? IndexOperation::kTrain : IndexOperation::kRebuild, seconds);
  }
  return absl::OkStatus();
}

absl::StatusOr<size_t> VectorIndex::PurgeTombstones(bool force) {
  constexpr size_t kMinBatch = 1024;
  constexpr std::chrono::seconds kMaxWait{5};
  std::lock_guard maintenance(maintenance_mu_);
  std::unique_lock lock(mu_);
  if (dead_slots_.empty() || !main_->supports_remove()) return 0;
  const auto now = std::chrono::steady_clock::now();
  const size_t batch = std::max<size_t>(kMinBatch, main_->ntotal() / 100);
  if (!force && dead_slots_.size() < batch && now - last_purge_ < kMaxWait) return 0;
  absl::StatusOr<size_t> removed = main_->Remove(dead_slots_);
  if (!removed.ok()) return removed.status();
  dead_slots_.clear();
  ++version_;
  last_purge_ = now;
  return *removed;
}

VectorIndexStats VectorIndex::stats() const {
  std::shared_lock lock(mu_);
  VectorIndexStats stats;
  stats.index_type = main_->type_name();
  stats.trained = main_is_spec_;
  stats.chunks = entries_.size();
  stats.indexed = main_->ntotal();
  stats.buffered = buffer_entries_.size();
  stats.tombstones = dead_slots_.size();
  stats.sequence = applied_sequence_;
  stats.memory_bytes = main_->memory_bytes() + buffer_vectors_.size() * sizeof(float) +
                       entries_.size() * (sizeof(Entry) + 32);
  return stats;
}

uint64_t VectorIndex::applied_sequence() const {
  std::shared_lock lock(mu_);
  return applied_sequence_;
}

size_t VectorIndex::tombstones() const {
  std::shared_lock lock(mu_);
  return dead_slots_.size();
}

size_t VectorIndex::buffered() const {
  std::shared_lock lock(mu_);
  return buffer_entries_.size();
}

}  // namespace quarry::shard
