#include "shard/chunk_store.h"

#include <rocksdb/options.h>
#include <rocksdb/table.h>
#include <rocksdb/utilities/checkpoint.h>
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <chrono>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "services/runtime/log.h"

namespace quarry::shard {
namespace {

constexpr char kChunksFamily[] = "chunks";
constexpr char kDocsFamily[] = "docs";
constexpr char kChangesFamily[] = "changes";
constexpr char kMetaFamily[] = "meta";
constexpr char kMetaShardKey[] = "shard";
constexpr char kMetaSequenceKey[] = "sequence";
constexpr char kMetaCountsKey[] = "counts";

// A group stops growing past this many bytes of chunks, to bound one write's latency.
constexpr size_t kMaxGroupBytes = 16 << 20;

std::string BigEndianKey(uint64_t value) {
  std::string key(8, '\0');
  for (int i = 7; i >= 0; --i) {
    key[i] = static_cast<char>(value & 0xff);
    value >>= 8;
  }
  return key;
}

uint64_t FromBigEndianKey(const rocksdb::Slice& key) {
  uint64_t value = 0;
  for (size_t i = 0; i < 8 && i < key.size(); ++i) {
    value = (value << 8) | static_cast<uint8_t>(key[i]);
  }
  return value;
}

std::string DocKey(const std::string& tenant, const std::string& doc_id) {
  return absl::StrCat(tenant, absl::string_view("\0", 1), doc_id);
}

absl::Status FromRocks(const rocksdb::Status& status, absl::string_view what) {
  if (status.ok()) return absl::OkStatus();
  if (status.IsCorruption()) {
    return absl::DataLossError(absl::StrCat(what, ": ", status.ToString()));
  }
  return absl::InternalError(absl::StrCat(what, ": ", status.ToString()));
}

size_t ApproximateBytes(const WriteOp& op) {
  size_t bytes = 0;
  for (const PreparedDocument& doc : op.upserts) {
    for (const v1::Chunk& chunk : doc.chunks) {
      bytes += chunk.text().size() + chunk.vector_size() * sizeof(float) + 64;
    }
  }
  return bytes + op.delete_doc_ids.size() * 64;
}

uint64_t SequenceValue(const std::string& value) {
  return value.size() == 8 ? FromBigEndianKey(value) : 0;
}

StoreCounts CountsValue(const std::string& value) {
  StoreCounts counts;
  if (value.size() != 16) return counts;
  counts.documents = FromBigEndianKey(rocksdb::Slice(value.data(), 8));
  counts.chunks = FromBigEndianKey(rocksdb::Slice(value.data() + 8, 8));
  return counts;
}

// The database options and every column family, as Open and the checkpoint reader use them.
std::vector<rocksdb::ColumnFamilyDescriptor> Families(const rocksdb::Options& options) {
  rocksdb::BlockBasedTableOptions table;
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  rocksdb::ColumnFamilyOptions family(options);
  family.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  return {
      {rocksdb::kDefaultColumnFamilyName, family},
      {kChunksFamily, family},
      {kDocsFamily, family},
      {kChangesFamily, family},
      {kMetaFamily, family},
  };
}

}  // namespace

ChunkStore::ChunkStore(std::unique_ptr<rocksdb::DB> db,
                       std::vector<rocksdb::ColumnFamilyHandle*> handles, ShardMeta meta)
    : db_(std::move(db)),
      handles_(std::move(handles)),
      chunks_(handles_[1]),
      docs_(handles_[2]),
      changes_(handles_[3]),
      meta_cf_(handles_[4]),
      meta_(std::move(meta)) {}

ChunkStore::~ChunkStore() {
  for (rocksdb::ColumnFamilyHandle* handle : handles_) db_->DestroyColumnFamilyHandle(handle);
  db_->Close();
}

absl::StatusOr<std::unique_ptr<ChunkStore>> ChunkStore::Open(const std::string& path,
                                                             const ShardMeta& meta,
                                                             std::string* stored_spec) {
  rocksdb::Options options;
  options.create_if_missing = true;
  options.create_missing_column_families = true;
  options.IncreaseParallelism(2);
  options.OptimizeLevelStyleCompaction();
  options.wal_recovery_mode = rocksdb::WALRecoveryMode::kPointInTimeRecovery;
  options.max_total_wal_size = 256 << 20;

  std::vector<rocksdb::ColumnFamilyDescriptor> families = Families(options);
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  rocksdb::Status opened = rocksdb::DB::Open(options, path, families, &handles, &raw);
  if (!opened.ok()) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot open the shard database in '", path, "': ", opened.ToString()));
  }
  std::unique_ptr<ChunkStore> store(
      new ChunkStore(std::unique_ptr<rocksdb::DB>(raw), std::move(handles), meta));

  // The shard's identity: recorded on creation, checked on every later start.
  std::string value;
  rocksdb::Status found = store->db_->Get({}, store->meta_cf_, kMetaShardKey, &value);
  if (found.IsNotFound()) {
    rocksdb::WriteOptions sync;
    sync.sync = true;
    absl::Status status =
        FromRocks(store->db_->Put(sync, store->meta_cf_, kMetaShardKey, meta.SerializeAsString()),
                  "recording shard metadata");
    if (!status.ok()) return status;
    if (stored_spec) *stored_spec = meta.index_spec();
  } else if (!found.ok()) {
    return FromRocks(found, "reading shard metadata");
  } else {
    ShardMeta stored;
    if (!stored.ParseFromString(value)) {
      return absl::DataLossError(absl::StrCat("shard metadata in '", path, "' is damaged"));
    }
    if (stored.dimension() != meta.dimension() || stored.metric() != meta.metric() ||
        stored.shard_id() != meta.shard_id()) {
      return absl::FailedPreconditionError(absl::StrCat(
          "data directory '", path, "' belongs to shard ", stored.shard_id(), " with dimension ",
          stored.dimension(), " and metric ", stored.metric(), "; asked for shard ",
          meta.shard_id(), " with dimension ", meta.dimension(), " and metric ", meta.metric()));
    }
    if (stored_spec) *stored_spec = stored.index_spec();
    if (stored.index_spec() != meta.index_spec()) {
      stored.set_index_spec(meta.index_spec());
      rocksdb::WriteOptions sync;
      sync.sync = true;
      absl::Status status = FromRocks(
          store->db_->Put(sync, store->meta_cf_, kMetaShardKey, stored.SerializeAsString()),
          "recording shard metadata");
      if (!status.ok()) return status;
    }
  }

  if (store->db_->Get({}, store->meta_cf_, kMetaSequenceKey, &value).ok()) {
    store->last_sequence_ = SequenceValue(value);
  }
  if (store->db_->Get({}, store->meta_cf_, kMetaCountsKey, &value).ok()) {
    store->counts_ = CountsValue(value);
  }
  return store;
}

absl::StatusOr<WriteResult> ChunkStore::Write(WriteOp op) {
  Writer self;
  self.op = &op;
  std::unique_lock lock(writers_mu_);
  writers_.push_back(&self);
  while (!self.done && &self != writers_.front()) self.cv.wait(lock);
  if (self.done) return std::move(self.result);

  // This writer leads: it commits itself and those queued behind it, up to a size limit.
  std::vector<Writer*> group;
  size_t bytes = 0;
  for (Writer* writer : writers_) {
    if (!group.empty() && bytes + ApproximateBytes(*writer->op) > kMaxGroupBytes) break;
    group.push_back(writer);
    bytes += ApproximateBytes(*writer->op);
  }
  lock.unlock();
  CommitGroup(group);
  lock.lock();

  for (Writer* writer : group) {
    writers_.pop_front();
    if (writer != &self) {
      writer->done = true;
      writer->cv.notify_one();
    }
  }
  if (!writers_.empty()) writers_.front()->cv.notify_one();
  return std::move(self.result);
}

void ChunkStore::CommitGroup(absl::Span<Writer* const> group) {
  rocksdb::WriteBatch batch;
  std::vector<IndexUpdate> updates;
  updates.reserve(group.size());
  std::vector<WriteResult> results(group.size());
  // Documents this group already changed, so later ops in it see earlier ones.
  absl::flat_hash_map<std::string, std::optional<DocumentRecord>> overlay;
  absl::Status failure;

  uint64_t sequence;
  StoreCounts counts;
  {
    std::lock_guard state(state_mu_);
    sequence = last_sequence_;
    counts = counts_;
  }

  auto lookup = [&](const std::string& key) -> absl::StatusOr<std::optional<DocumentRecord>> {
    auto it = overlay.find(key);
    if (it != overlay.end()) return it->second;
    std::string value;
    rocksdb::Status status = db_->Get({}, docs_, key, &value);
    if (status.IsNotFound()) return std::nullopt;
    if (!status.ok()) return FromRocks(status, "reading a document record");
    DocumentRecord record;
    if (!record.ParseFromString(value)) return absl::DataLossError("damaged document record");
    return record;
  };

  for (size_t g = 0; g < group.size() && failure.ok(); ++g) {
    WriteOp& op = *group[g]->op;
    WriteResult& result = results[g];
    IndexUpdate& update = updates.emplace_back();
    ChangeRecord change;
    result.sequence = update.sequence = ++sequence;

    for (PreparedDocument& doc : op.upserts) {
      std::string key = DocKey(doc.tenant, doc.doc_id);
      absl::StatusOr<std::optional<DocumentRecord>> old = lookup(key);
      if (!old.ok()) {
        failure = old.status();
        break;
      }
      DocumentRecord record;
      record.set_updated_unix_ms(doc.updated_unix_ms);
      record.set_sequence(sequence);
      record.set_content_hash(doc.content_hash);
      for (const v1::Chunk& chunk : doc.chunks) record.add_chunk_ids(chunk.id());
      if (*old) {
        absl::flat_hash_set<uint64_t> kept(record.chunk_ids().begin(), record.chunk_ids().end());
        for (uint64_t id : (*old)->chunk_ids()) {
          update.removed.push_back(id);
          if (kept.contains(id)) continue;
          batch.Delete(chunks_, BigEndianKey(id));
          change.add_removed(id);
          ++result.chunks_removed;
        }
        counts.chunks -= (*old)->chunk_ids_size();
      } else {
        ++counts.documents;
      }
      for (const v1::Chunk& chunk : doc.chunks) {
        batch.Put(chunks_, BigEndianKey(chunk.id()), chunk.SerializeAsString());
        change.add_added(chunk.id());
        update.added.push_back(&chunk);
        ++result.chunks_written;
      }
      counts.chunks += doc.chunks.size();
      batch.Put(docs_, key, record.SerializeAsString());
      overlay[key] = std::move(record);
      ++result.documents;
    }

    for (const std::string& doc_id : op.delete_doc_ids) {
      std::string key = DocKey(op.delete_tenant, doc_id);
      absl::StatusOr<std::optional<DocumentRecord>> old = lookup(key);
      if (!old.ok()) {
        failure = old.status();
        break;
      }
      if (!*old) {
        result.not_found.push_back(doc_id);
        continue;
      }
      for (uint64_t id : (*old)->chunk_ids()) {
        batch.Delete(chunks_, BigEndianKey(id));
        change.add_removed(id);
        update.removed.push_back(id);
        ++result.chunks_removed;
      }
      counts.chunks -= (*old)->chunk_ids_size();
      --counts.documents;
      batch.Delete(docs_, key);
      overlay[key] = std::nullopt;
      ++result.documents;
    }
    batch.Put(changes_, BigEndianKey(sequence), change.SerializeAsString());
  }

  if (failure.ok()) {
    std::string counts_value = BigEndianKey(counts.documents) + BigEndianKey(counts.chunks);
    batch.Put(meta_cf_, kMetaSequenceKey, BigEndianKey(sequence));
    batch.Put(meta_cf_, kMetaCountsKey, counts_value);
    rocksdb::WriteOptions sync;
    sync.sync = true;
    failure = FromRocks(db_->Write(sync, &batch), "writing to the shard database");
  }
  if (!failure.ok()) {
    runtime::Logger("store")->error("write of {} requests failed: {}", group.size(),
                                    failure.ToString());
    for (Writer* writer : group) writer->result = failure;
    return;
  }

  {
    std::lock_guard state(state_mu_);
    last_sequence_ = sequence;
    counts_ = counts;
  }
  if (listener_) listener_(updates);
  for (size_t g = 0; g < group.size(); ++g) group[g]->result = std::move(results[g]);
}

absl::StatusOr<std::vector<v1::Chunk>> ChunkStore::GetChunks(absl::Span<const uint64_t> ids) const {
  std::vector<std::string> keys;
  keys.reserve(ids.size());
  for (uint64_t id : ids) keys.push_back(BigEndianKey(id));
  std::vector<rocksdb::Slice> slices(keys.begin(), keys.end());
  std::vector<rocksdb::ColumnFamilyHandle*> families(ids.size(), chunks_);
  std::vector<std::string> values;
  std::vector<rocksdb::Status> statuses = db_->MultiGet({}, families, slices, &values);

  std::vector<v1::Chunk> chunks;
  chunks.reserve(ids.size());
  for (size_t i = 0; i < ids.size(); ++i) {
    if (statuses[i].IsNotFound()) continue;
    if (!statuses[i].ok()) return FromRocks(statuses[i], "reading chunks");
    if (!chunks.emplace_back().ParseFromString(values[i])) {
      return absl::DataLossError(absl::StrCat("chunk ", ids[i], " is damaged"));
    }
  }
  return chunks;
}

absl::StatusOr<std::optional<DocumentRecord>> ChunkStore::GetDocument(
    const std::string& tenant, const std::string& doc_id) const {
  std::string value;
  rocksdb::Status status = db_->Get({}, docs_, DocKey(tenant, doc_id), &value);
  if (status.IsNotFound()) return std::nullopt;
  if (!status.ok()) return FromRocks(status, "reading a document record");
  DocumentRecord record;
  if (!record.ParseFromString(value)) return absl::DataLossError("damaged document record");
  return record;
}

absl::Status ChunkStore::ReadVectors(absl::Span<const uint64_t> ids, std::vector<float>& vectors,
                                     std::vector<bool>& found) const {
  const size_t d = meta_.dimension();
  vectors.assign(ids.size() * d, 0.0f);
  found.assign(ids.size(), false);
  constexpr size_t kBatch = 4096;
  for (size_t begin = 0; begin < ids.size(); begin += kBatch) {
    size_t n = std::min(kBatch, ids.size() - begin);
    std::vector<std::string> keys;
    keys.reserve(n);
    for (size_t i = 0; i < n; ++i) keys.push_back(BigEndianKey(ids[begin + i]));
    std::vector<rocksdb::Slice> slices(keys.begin(), keys.end());
    std::vector<rocksdb::ColumnFamilyHandle*> families(n, chunks_);
    std::vector<std::string> values;
    std::vector<rocksdb::Status> statuses = db_->MultiGet({}, families, slices, &values);
    v1::Chunk chunk;
    for (size_t i = 0; i < n; ++i) {
      if (statuses[i].IsNotFound()) continue;
      if (!statuses[i].ok()) return FromRocks(statuses[i], "reading vectors");
      if (!chunk.ParseFromString(values[i]) || chunk.vector_size() != static_cast<int>(d)) {
        return absl::DataLossError(absl::StrCat("chunk ", ids[begin + i], " is damaged"));
      }
      std::copy(chunk.vector().begin(), chunk.vector().end(), vectors.begin() + (begin + i) * d);
      found[begin + i] = true;
    }
  }
  return absl::OkStatus();
}

absl::Status ChunkStore::ScanChunks(const std::function<bool(const v1::Chunk&)>& visit) const {
  rocksdb::ReadOptions options;
  options.fill_cache = false;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(options, chunks_));
  v1::Chunk chunk;
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    if (!chunk.ParseFromArray(it->value().data(), it->value().size())) {
      return absl::DataLossError(
          absl::StrCat("chunk ", FromBigEndianKey(it->key()), " is damaged"));
    }
    if (!visit(chunk)) break;
  }
  return FromRocks(it->status(), "scanning chunks");
}

absl::StatusOr<std::vector<uint64_t>> ChunkStore::ChangedSince(uint64_t sequence) const {
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator({}, changes_));
  absl::flat_hash_set<uint64_t> seen;
  std::vector<uint64_t> ids;
  ChangeRecord change;
  for (it->Seek(BigEndianKey(sequence + 1)); it->Valid(); it->Next()) {
    if (!change.ParseFromArray(it->value().data(), it->value().size())) {
      return absl::DataLossError("damaged change record");
    }
    for (uint64_t id : change.removed()) {
      if (seen.insert(id).second) ids.push_back(id);
    }
    for (uint64_t id : change.added()) {
      if (seen.insert(id).second) ids.push_back(id);
    }
  }
  absl::Status status = FromRocks(it->status(), "reading change records");
  if (!status.ok()) return status;
  return ids;
}

absl::Status ChunkStore::TrimChangesThrough(uint64_t sequence) {
  return FromRocks(db_->DeleteRange({}, changes_, BigEndianKey(0), BigEndianKey(sequence + 1)),
                   "trimming change records");
}

absl::StatusOr<CheckpointInfo> ChunkStore::Checkpoint(const std::string& directory) const {
  rocksdb::Checkpoint* raw = nullptr;
  absl::Status status = FromRocks(rocksdb::Checkpoint::Create(db_.get(), &raw),
                                  "preparing a checkpoint of the shard database");
  if (!status.ok()) return status;
  std::unique_ptr<rocksdb::Checkpoint> checkpoint(raw);
  // A log size of 0 flushes the memtables first, so the copy needs no WAL replay.
  status =
      FromRocks(checkpoint->CreateCheckpoint(directory, /*log_size_for_flush=*/0),
                absl::StrCat("writing a checkpoint of the shard database to '", directory, "'"));
  if (!status.ok()) return status;

  // Read the copy's own sequence and counts back: writes went on while it was taken.
  rocksdb::Options options;
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* opened = nullptr;
  status = FromRocks(
      rocksdb::DB::OpenForReadOnly(options, directory, Families(options), &handles, &opened),
      absl::StrCat("opening the checkpoint in '", directory, "'"));
  if (!status.ok()) return status;
  std::unique_ptr<rocksdb::DB> copy(opened);
  CheckpointInfo info;
  std::string value;
  rocksdb::Status read = copy->Get({}, handles[4], kMetaSequenceKey, &value);
  if (read.ok()) info.sequence = SequenceValue(value);
  if (read.ok() || read.IsNotFound()) read = copy->Get({}, handles[4], kMetaCountsKey, &value);
  if (read.ok()) info.counts = CountsValue(value);
  if (read.IsNotFound()) read = rocksdb::Status::OK();  // an empty shard has no counts yet
  for (rocksdb::ColumnFamilyHandle* handle : handles) copy->DestroyColumnFamilyHandle(handle);
  copy->Close();
  status = FromRocks(read, absl::StrCat("reading the checkpoint in '", directory, "'"));
  if (!status.ok()) return status;
  return info;
}

uint64_t ChunkStore::last_sequence() const {
  std::lock_guard state(state_mu_);
  return last_sequence_;
}

StoreCounts ChunkStore::counts() const {
  std::lock_guard state(state_mu_);
  return counts_;
}

uint64_t ChunkStore::disk_bytes() const {
  uint64_t total = 0;
  for (rocksdb::ColumnFamilyHandle* handle : handles_) {
    uint64_t bytes = 0;
    if (db_->GetIntProperty(handle, rocksdb::DB::Properties::kLiveSstFilesSize, &bytes)) {
      total += bytes;
    }
    if (db_->GetIntProperty(handle, rocksdb::DB::Properties::kCurSizeAllMemTables, &bytes)) {
      total += bytes;
    }
  }
  return total;
}

uint64_t ChunkStore::pending_compaction_bytes() const {
  uint64_t total = 0;
  for (rocksdb::ColumnFamilyHandle* handle : handles_) {
    uint64_t bytes = 0;
    if (db_->GetIntProperty(handle, rocksdb::DB::Properties::kEstimatePendingCompactionBytes,
                            &bytes)) {
      total += bytes;
    }
  }
  return total;
}

}  // namespace quarry::shard
