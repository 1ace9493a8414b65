// The searchable, in-memory side of a shard: a FAISS index of most vectors, a small buffer of
// fresh ones, and the attributes that visibility and filters need, all derived from RocksDB.
//
// Writes land in the buffer (searched exactly, so a write is visible as soon as it is
// acknowledged) and a background thread moves them into the main FAISS index in small batches.
// Deleting a chunk drops its entry at once; its vector stays in the main index as a tombstone
// that searches skip until it is removed (remove_ids, for IVF indexes) or the index is rebuilt
// without it (the others, once tombstones pass a share of the index). Specs that need training
// serve from a flat index until enough vectors exist, then train on them and swap.
//
// Thread-safety: every public method is safe to call concurrently. Searches share a lock;
// Apply and the short swap steps of maintenance take it exclusively. Maintenance methods
// (IndexBuffered, Rebuild, PurgeTombstones, SaveSnapshot) serialize among themselves and do
// their slow work (training, building, writing files) without blocking searches.
#ifndef QUARRY_SHARD_VECTOR_INDEX_H_
#define QUARRY_SHARD_VECTOR_INDEX_H_

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/node_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "quarry/v1/types.pb.h"
#include "shard/chunk_filter.h"
#include "shard/faiss_index.h"

namespace quarry::shard {

// Slow index maintenance, timed for whoever watches the index.
enum class IndexOperation { kTrain = 0, kRebuild = 1, kSnapshot = 2 };
absl::string_view IndexOperationName(IndexOperation operation);  // "train", ...

struct VectorIndexOptions {
  int dimension = 0;
  Metric metric = Metric::kInnerProduct;
  std::string spec = "Flat";
  size_t train_min = 0;  // vectors before training; 0 takes the index's recommendation
  int default_nprobe = 16;
  int default_ef_search = 64;
  // Indexes without remove_ids are rebuilt once tombstones pass this share of their vectors.
  double rebuild_tombstone_ratio = 0.2;
  size_t rebuild_min_tombstones = 1000;
  // Told the seconds each train, rebuild and snapshot took; may be empty. Runs on the thread
  // that did the work.
  std::function<void(IndexOperation, double seconds)> on_operation;
};

// The changes of one acknowledged write. Removing an unknown chunk is a no-op; adding a known
// one replaces it.
struct IndexUpdate {
  uint64_t sequence = 0;
  std::vector<uint64_t> removed;
  std::vector<const v1::Chunk*> added;  // not owned; vectors already normalised for "ip"
};

struct ScoredChunk {
  uint64_t chunk_id = 0;
  float score = 0;  // higher is better
  std::string doc_id;
  std::string tenant;
  uint32_t ordinal = 0;
};

struct IndexSearchResult {
  std::vector<ScoredChunk> hits;  // best first, ties by ascending chunk id
  uint64_t sequence = 0;          // every update up to here was visible
  uint64_t candidates = 0;        // visible candidates scored
};

struct VectorIndexStats {
  std::string index_type;
  bool trained = false;
  uint64_t chunks = 0;
  uint64_t indexed = 0;  // vectors in the main index, tombstones included
  uint64_t buffered = 0;
  uint64_t tombstones = 0;
  uint64_t sequence = 0;
  uint64_t memory_bytes = 0;
};

// Reads the current vectors of chunks from the source of truth, `ids.size() * dimension`
// floats into `vectors`; `found[i]` is false for a chunk that no longer exists.
using VectorSource = std::function<absl::Status(
    absl::Span<const uint64_t> ids, std::vector<float>& vectors, std::vector<bool>& found)>;

class VectorIndex {
 public:
  // An empty index. INVALID_ARGUMENT for a bad dimension or spec.
  static absl::StatusOr<std::unique_ptr<VectorIndex>> Create(const VectorIndexOptions& options);

  // Loads the snapshot in `directory`. DATA_LOSS when it is damaged, NOT_FOUND when there is
  // none; the caller then rebuilds from the source of truth.
  static absl::StatusOr<std::unique_ptr<VectorIndex>> LoadSnapshot(
      const VectorIndexOptions& options, const std::string& directory);

  VectorIndex(const VectorIndex&) = delete;
  VectorIndex& operator=(const VectorIndex&) = delete;
  ~VectorIndex();

  // Applies updates in order; a search sees all of an update or none of it.
  void Apply(absl::Span<const IndexUpdate> updates);

  // The k best chunks visible to `principal` that `filter` admits.
  // REQUIRES: `query` has dimension() values, normalised for "ip"; k > 0.
  absl::StatusOr<IndexSearchResult> Search(const float* query, int k,
                                           const v1::Principal& principal, const v1::Filter& filter,
                                           AnnParams params) const;

  // Moves up to one batch of buffered vectors into the main index, sized so the exclusive
  // lock is held for about `budget`. Returns how many moved.
  absl::StatusOr<size_t> IndexBuffered(std::chrono::microseconds budget);

  // True when the main index should be rebuilt: training is due, or tombstones piled up in an
  // index that cannot remove vectors.
  bool NeedsRebuild() const;

  // Builds a new main index from the live chunks' vectors read from `source` (training it when
  // the spec needs it) and swaps it in. Searches go on against the old index meanwhile.
  absl::Status Rebuild(const VectorSource& source);

  // Removes tombstones from an index that supports remove_ids, once enough have gathered
  // (remove_ids scans the whole index) or the oldest has waited long enough; `force` skips
  // that wait. Returns how many went.
  absl::StatusOr<size_t> PurgeTombstones(bool force = false);

  // Writes a snapshot covering every applied update into `directory` (created; replaced
  // atomically if it exists). Returns the sequence it covers.
  absl::StatusOr<uint64_t> SaveSnapshot(const std::string& directory);

  VectorIndexStats stats() const;
  // Grows with every change to the index; equal versions mean an unchanged index.
  uint64_t version() const { return version_.load(); }
  uint64_t applied_sequence() const;
  int dimension() const { return options_.dimension; }
  size_t tombstones() const;
  size_t buffered() const;

 private:
  // A live chunk. Exactly one of `slot` and `buffer_pos` is set.
  struct Entry {
    uint64_t chunk_id = 0;
    int64_t slot = -1;        // label in main_
    int64_t buffer_pos = -1;  // row in buffer_vectors_
    ChunkAttrs attrs;
  };

  VectorIndex(const VectorIndexOptions& options, bool spec_needs_training, size_t train_min);

  absl::Status ResetMain() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void AddEntryLocked(const v1::Chunk& chunk) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void AddBufferedLocked(Entry& entry, const float* vector) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void RemoveEntryLocked(uint64_t chunk_id) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  bool AllVisibleLocked(const ChunkFilter& filter, const v1::Principal& principal) const
      ABSL_SHARED_LOCKS_REQUIRED(mu_);
  ScoredChunk MakeScoredLocked(const Entry& entry, float score) const
      ABSL_SHARED_LOCKS_REQUIRED(mu_);
  bool NeedsTrainingLocked() const ABSL_SHARED_LOCKS_REQUIRED(mu_);
  bool TooManyTombstonesLocked() const ABSL_SHARED_LOCKS_REQUIRED(mu_);

  const VectorIndexOptions options_;
  const bool spec_needs_training_;
  const size_t train_min_;  // live vectors in the flat stand-in that trigger training

  // Held by every maintenance step, so that only one of them changes main_ at a time and the
  // slow parts of each can run without mu_.
  std::mutex maintenance_mu_;

  mutable std::shared_mutex mu_;
  std::unique_ptr<FaissIndex> main_ ABSL_GUARDED_BY(mu_);
  bool main_is_spec_ ABSL_GUARDED_BY(mu_) = false;  // false: a flat stand-in awaiting training
  absl::node_hash_map<uint64_t, Entry> entries_ ABSL_GUARDED_BY(mu_);
  std::vector<Entry*> slot_entries_ ABSL_GUARDED_BY(mu_);  // by label; null: tombstone
  std::vector<int64_t> dead_slots_ ABSL_GUARDED_BY(mu_);   // tombstones still in main_
  int64_t main_live_ ABSL_GUARDED_BY(mu_) = 0;
  std::vector<float> buffer_vectors_ ABSL_GUARDED_BY(mu_);  // buffer_entries_.size() * d
  std::vector<Entry*> buffer_entries_ ABSL_GUARDED_BY(mu_);
  StringPool pool_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<uint32_t, int64_t> tenant_chunks_ ABSL_GUARDED_BY(mu_);
  int64_t acl_chunks_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t applied_sequence_ ABSL_GUARDED_BY(mu_) = 0;

  std::atomic<uint64_t> version_{0};

  // Guarded by maintenance_mu_.
  size_t move_batch_ = 256;  // adapted by IndexBuffered
  std::chrono::steady_clock::time_point last_purge_ = std::chrono::steady_clock::now();
};

}  // namespace quarry::shard

#endif  // QUARRY_SHARD_VECTOR_INDEX_H_
