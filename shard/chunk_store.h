// The shard's source of truth: chunks, document → chunk maps, the change log and the shard's
// metadata, in one RocksDB database.
//
// Column families:
//   chunks  big-endian chunk id          → v1::Chunk (text, vector, attributes)
//   docs    tenant '\0' document id      → DocumentRecord (its chunk ids)
//   changes big-endian write sequence    → ChangeRecord (chunk ids a write touched)
//   meta    "shard", "sequence", "counts" → ShardMeta, last sequence, document/chunk counts
//
// Writes are group-committed: concurrent callers queue, the first in line writes everyone's
// changes as one WriteBatch with one WAL sync, and each caller returns once its write is
// durable. Every write gets its own sequence number. After the sync and before any caller
// returns, the commit listener sees the writes in sequence order (the shard's index uses it).
//
// Thread-safe.
#ifndef QUARRY_SHARD_CHUNK_STORE_H_
#define QUARRY_SHARD_CHUNK_STORE_H_

#include <rocksdb/db.h>
#include <rocksdb/filter_policy.h>

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "quarry/v1/types.pb.h"
#include "shard/storage.pb.h"
#include "shard/vector_index.h"

namespace quarry::shard {

// A document ready to store: chunks carry their ids, vectors and the document's attributes.
struct PreparedDocument {
  std::string tenant;
  std::string doc_id;
  int64_t updated_unix_ms = 0;
  std::string content_hash;
  std::vector<v1::Chunk> chunks;  // in ordinal order
};

// One caller's write: upserts, or deletes of one tenant's documents.
struct WriteOp {
  std::vector<PreparedDocument> upserts;
  std::string delete_tenant;
  std::vector<std::string> delete_doc_ids;
};

struct WriteResult {
  uint64_t sequence = 0;
  uint32_t documents = 0;  // upserted or deleted
  uint32_t chunks_written = 0;
  uint32_t chunks_removed = 0;
  std::vector<std::string> not_found;  // deletes of unknown documents
};

struct StoreCounts {
  uint64_t documents = 0;
  uint64_t chunks = 0;
};

// What a checkpoint of the store holds.
struct CheckpointInfo {
  uint64_t sequence = 0;  // the last write in it
  StoreCounts counts;
};

class ChunkStore {
 public:
  using CommitListener = std::function<void(absl::Span<const IndexUpdate>)>;

  // Opens or creates the database in `path`. A new database records `meta`; an existing one
  // must agree on shard id, dimension and metric (FAILED_PRECONDITION naming the difference).
  // A different index spec is accepted and recorded; `*stored_spec` gets the earlier one.
  static absl::StatusOr<std::unique_ptr<ChunkStore>> Open(const std::string& path,
                                                          const ShardMeta& meta,
                                                          std::string* stored_spec);

  ChunkStore(const ChunkStore&) = delete;
  ChunkStore& operator=(const ChunkStore&) = delete;
  ~ChunkStore();

  // REQUIRES: called before the first Write.
  void SetCommitListener(CommitListener listener) { listener_ = std::move(listener); }

  // Makes `op` durable. Nothing of it is written when it fails.
  absl::StatusOr<WriteResult> Write(WriteOp op);

  // Chunks by id; a missing one is absent from the result. Preserves the order of `ids`.
  absl::StatusOr<std::vector<v1::Chunk>> GetChunks(absl::Span<const uint64_t> ids) const;

  // The chunk ids of a document, or nullopt when it does not exist.
  absl::StatusOr<std::optional<DocumentRecord>> GetDocument(const std::string& tenant,
                                                            const std::string& doc_id) const;

  // Vectors of chunks, for rebuilding the index (see VectorSource).
  absl::Status ReadVectors(absl::Span<const uint64_t> ids, std::vector<float>& vectors,
                           std::vector<bool>& found) const;

  // Calls `visit` with every chunk, in id order, until it returns false.
  absl::Status ScanChunks(const std::function<bool(const v1::Chunk&)>& visit) const;

  // The ids of chunks that writes after `sequence` added or removed.
  absl::StatusOr<std::vector<uint64_t>> ChangedSince(uint64_t sequence) const;

  // Forgets change records up to and including `sequence` (an index snapshot covers them).
  absl::Status TrimChangesThrough(uint64_t sequence);

  // Writes a consistent copy of the database into `directory` (which must not exist) while
  // writes go on: every write durable before the call is in it. Files are hard-linked when
  // `directory` is on the same filesystem, copied otherwise. Returns the copy's last sequence
  // and counts, read back from it.
  absl::StatusOr<CheckpointInfo> Checkpoint(const std::string& directory) const;

  uint64_t last_sequence() const;
  StoreCounts counts() const;
  uint64_t disk_bytes() const;
  // RocksDB's estimate of the bytes compaction must still rewrite, over all column families.
  uint64_t pending_compaction_bytes() const;
  const ShardMeta& meta() const { return meta_; }

 private:
  struct Writer {
    WriteOp* op;
    absl::StatusOr<WriteResult> result;
    bool done = false;
    std::condition_variable cv;
  };

  ChunkStore(std::unique_ptr<rocksdb::DB> db, std::vector<rocksdb::ColumnFamilyHandle*> handles,
             ShardMeta meta);

  // Writes the group's ops as one batch and sets each writer's result.
  void CommitGroup(absl::Span<Writer* const> group);

  std::unique_ptr<rocksdb::DB> db_;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;  // owned; closed in the destructor
  rocksdb::ColumnFamilyHandle* chunks_;
  rocksdb::ColumnFamilyHandle* docs_;
  rocksdb::ColumnFamilyHandle* changes_;
  rocksdb::ColumnFamilyHandle* meta_cf_;
  const ShardMeta meta_;
  CommitListener listener_;

  std::mutex writers_mu_;
  std::deque<Writer*> writers_ ABSL_GUARDED_BY(writers_mu_);

  // Changed only by the group leader; read by anyone.
  mutable std::mutex state_mu_;
  uint64_t last_sequence_ ABSL_GUARDED_BY(state_mu_) = 0;
  StoreCounts counts_ ABSL_GUARDED_BY(state_mu_);
};

}  // namespace quarry::shard

#endif  // QUARRY_SHARD_CHUNK_STORE_H_
