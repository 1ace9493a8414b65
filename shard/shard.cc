#include "shard/shard.h"

#include <algorithm>
#include <cmath>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "services/runtime/log.h"
#include "shard/chunk_filter.h"
#include "shard/chunk_id.h"
#include "shard/shard_backup.h"

namespace quarry::shard {
namespace {

namespace fs = std::filesystem;

constexpr std::chrono::microseconds kMoveBudget{10000};
constexpr std::chrono::milliseconds kIdleWait{50};
constexpr std::chrono::seconds kRetryAfterFailure{30};
constexpr size_t kRecoveryBatch = 8192;

std::string DbPath(const ShardOptions& options) { return options.data_dir + "/db"; }
std::string SnapshotPath(const ShardOptions& options) { return options.data_dir + "/index"; }

void Normalize(google::protobuf::RepeatedField<float>& vector) {
  double norm = 0;
  for (float x : vector) norm += static_cast<double>(x) * x;
  const float scale = static_cast<float>(1.0 / std::sqrt(norm));
  for (float& x : vector) x *= scale;
}

VectorIndexOptions IndexOptions(const ShardOptions& options) {
  VectorIndexOptions index;
  index.dimension = options.dimension;
  index.metric = options.metric;
  index.spec = options.index_spec;
  index.train_min = options.train_min;
  index.default_nprobe = options.default_nprobe;
  index.default_ef_search = options.default_ef_search;
  if (ShardMetrics* metrics = options.metrics) {
    index.on_operation = [metrics](IndexOperation operation, double seconds) {
      metrics->IndexOperationDone(operation, seconds);
    };
  }
  return index;
}

// Copies the document's attributes onto each chunk, assigns ids and normalises vectors.
PreparedDocument Prepare(const v1::DocumentChunks& entry, Metric metric) {
  const v1::Document& doc = entry.document();
  PreparedDocument prepared;
  prepared.tenant = doc.tenant();
  prepared.doc_id = doc.id();
  prepared.content_hash = doc.content_hash();
  prepared.updated_unix_ms =
      doc.updated_unix_ms() != 0 ? doc.updated_unix_ms() : absl::ToUnixMillis(absl::Now());
  prepared.chunks.assign(entry.chunks().begin(), entry.chunks().end());
  std::sort(prepared.chunks.begin(), prepared.chunks.end(),
            [](const v1::Chunk& a, const v1::Chunk& b) { return a.ordinal() < b.ordinal(); });
  for (v1::Chunk& chunk : prepared.chunks) {
    chunk.set_id(ChunkIdFor(doc.tenant(), doc.id(), chunk.ordinal()));
    chunk.set_doc_id(doc.id());
    chunk.set_tenant(doc.tenant());
    if (chunk.title().empty()) chunk.set_title(doc.title());
    if (chunk.source().empty()) chunk.set_source(doc.source());
    for (const auto& [key, value] : doc.metadata()) chunk.mutable_metadata()->insert({key, value});
    *chunk.mutable_acl_groups() = doc.acl_groups();
    chunk.set_updated_unix_ms(prepared.updated_unix_ms);
    if (metric == Metric::kInnerProduct) Normalize(*chunk.mutable_vector());
  }
  return prepared;
}

}  // namespace

Shard::Shard(ShardOptions options, std::unique_ptr<ChunkStore> store,
             std::unique_ptr<VectorIndex> index)
    : options_(std::move(options)), store_(std::move(store)), index_(std::move(index)) {}

Shard::~Shard() { StopMaintenance(); }

absl::StatusOr<std::unique_ptr<Shard>> Shard::Open(ShardOptions options) {
  options.limits.dimension = options.dimension;
  options.limits.metric = options.metric;
  if (options.dimension <= 0 || options.dimension > 65536) {
    return absl::InvalidArgumentError(
        absl::StrCat("dimension must be from 1 to 65536, got ", options.dimension));
  }
  // Validate the spec before touching the data directory.
  absl::StatusOr<std::unique_ptr<VectorIndex>> index = VectorIndex::Create(IndexOptions(options));
  if (!index.ok()) return index.status();

  std::error_code error;
  fs::create_directories(options.data_dir, error);
  if (error) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot create data directory '", options.data_dir, "': ", error.message()));
  }
  ShardMeta meta;
  meta.set_shard_id(options.shard_id);
  meta.set_dimension(options.dimension);
  meta.set_metric(std::string(MetricName(options.metric)));
  meta.set_index_spec(options.index_spec);
  meta.set_created_unix_ms(absl::ToUnixMillis(absl::Now()));
  std::string stored_spec;
  absl::StatusOr<std::unique_ptr<ChunkStore>> store =
      ChunkStore::Open(DbPath(options), meta, &stored_spec);
  if (!store.ok()) return store.status();

  std::unique_ptr<Shard> shard(new Shard(std::move(options), *std::move(store), *std::move(index)));
  absl::Status status = shard->Recover(stored_spec);
  if (!status.ok()) return status;
  if (shard->options_.maintenance) {
    shard->maintenance_thread_ = std::thread([s = shard.get()] { s->MaintenanceLoop(); });
  }
  return shard;
}

absl::Status Shard::Recover(const std::string& stored_spec) {
  auto log = runtime::Logger("shard");
  auto start = std::chrono::steady_clock::now();
  const VectorIndexOptions index_options = IndexOptions(options_);

  const StoreCounts counts = store_->counts();
  absl::StatusOr<std::unique_ptr<VectorIndex>> loaded =
      VectorIndex::LoadSnapshot(index_options, SnapshotPath(options_));
  if (loaded.ok() && (*loaded)->applied_sequence() > store_->last_sequence()) {
    loaded = absl::DataLossError("the snapshot is newer than the database");
  }

  if (loaded.ok()) {
    index_ = *std::move(loaded);
    const uint64_t covered = index_->applied_sequence();
    absl::StatusOr<std::vector<uint64_t>> changed = store_->ChangedSince(covered);
    if (!changed.ok()) return changed.status();
    for (size_t begin = 0; begin < changed->size(); begin += kRecoveryBatch) {
      absl::Span<const uint64_t> ids = absl::MakeConstSpan(*changed).subspan(begin, kRecoveryBatch);
      absl::StatusOr<std::vector<v1::Chunk>> chunks = store_->GetChunks(ids);
      if (!chunks.ok()) return chunks.status();
      IndexUpdate update;
      update.sequence = store_->last_sequence();
      update.removed.assign(ids.begin(), ids.end());
      for (const v1::Chunk& chunk : *chunks) update.added.push_back(&chunk);
      index_->Apply({update});
    }
    index_->Apply({IndexUpdate{store_->last_sequence(), {}, {}}});
    snapshot_sequence_ = covered;
    if (changed->empty()) snapshot_version_ = index_->version();  // the snapshot is current
    double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    log->info(
        "loaded index snapshot at sequence {} and caught up {} changed chunks to sequence "
        "{}: {} chunks in {:.2f}s",
        covered, changed->size(), store_->last_sequence(), index_->stats().chunks, seconds);
  } else {
    if (counts.chunks > 0 || store_->last_sequence() > 0) {
      std::string reason = stored_spec != options_.index_spec
                               ? absl::StrCat("the index spec changed from '", stored_spec,
                                              "' to '", options_.index_spec, "'")
                               : std::string(loaded.status().message());
      log->warn("rebuilding the index from the database: {}", reason);
    }
    absl::Status status = RebuildFromStore();
    if (!status.ok()) return status;
    double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    log->info("index built from the database: {} chunks at sequence {} in {:.2f}s",
              index_->stats().chunks, store_->last_sequence(), seconds);
  }

  store_->SetCommitListener(
      [index = index_.get()](absl::Span<const IndexUpdate> updates) { index->Apply(updates); });
  return absl::OkStatus();
}

absl::Status Shard::RebuildFromStore() {
  std::vector<v1::Chunk> batch;
  absl::Status apply_status;
  auto flush = [&] {
    IndexUpdate update;
    for (const v1::Chunk& chunk : batch) update.added.push_back(&chunk);
    index_->Apply({update});
    batch.clear();
    // Keep the buffer small while loading: a flat or trained index takes vectors quickly.
    while (index_->buffered() > 0 && apply_status.ok()) {
      absl::StatusOr<size_t> moved = index_->IndexBuffered(std::chrono::seconds(1));
      if (!moved.ok()) apply_status = moved.status();
      if (index_->NeedsRebuild()) {
        apply_status = index_->Rebuild(
            [this](absl::Span<const uint64_t> ids, std::vector<float>& vectors,
                   std::vector<bool>& found) { return store_->ReadVectors(ids, vectors, found); });
      }
    }
  };
  absl::Status status = store_->ScanChunks([&](const v1::Chunk& chunk) {
    batch.push_back(chunk);
    if (batch.size() >= kRecoveryBatch) flush();
    return apply_status.ok();
  });
  if (status.ok()) flush();
  if (!status.ok()) return status;
  if (!apply_status.ok()) return apply_status;
  index_->Apply({IndexUpdate{store_->last_sequence(), {}, {}}});
  // The change records are covered only once a snapshot exists; write one now so the next
  // start is fast.
  return Snapshot();
}

absl::StatusOr<v1::UpsertResponse> Shard::Upsert(const v1::UpsertRequest& request) {
  absl::Status status = ValidateUpsert(request, options_.limits);
  if (!status.ok()) return status;
  WriteOp op;
  op.upserts.reserve(request.documents_size());
  for (const v1::DocumentChunks& entry : request.documents()) {
    op.upserts.push_back(Prepare(entry, options_.metric));
  }
  absl::StatusOr<WriteResult> result = store_->Write(std::move(op));
  if (!result.ok()) return result.status();
  maintenance_cv_.notify_one();

  v1::UpsertResponse response;
  response.set_sequence(result->sequence);
  response.set_documents(result->documents);
  response.set_chunks_written(result->chunks_written);
  response.set_chunks_removed(result->chunks_removed);
  return response;
}

absl::StatusOr<v1::DeleteResponse> Shard::Delete(const v1::DeleteRequest& request) {
  absl::Status status = ValidateDelete(request, options_.limits);
  if (!status.ok()) return status;
  WriteOp op;
  op.delete_tenant = request.tenant();
  op.delete_doc_ids.assign(request.doc_ids().begin(), request.doc_ids().end());
  absl::StatusOr<WriteResult> result = store_->Write(std::move(op));
  if (!result.ok()) return result.status();

  v1::DeleteResponse response;
  response.set_sequence(result->sequence);
  response.set_documents_deleted(result->documents);
  response.set_chunks_deleted(result->chunks_removed);
  for (std::string& id : result->not_found) response.add_not_found(std::move(id));
  return response;
}

absl::StatusOr<v1::SearchResponse> Shard::Search(const v1::SearchRequest& request) const {
  absl::Status status = ValidateSearch(request, options_.limits);
  if (!status.ok()) return status;
  google::protobuf::RepeatedField<float> query = request.vector();
  if (options_.metric == Metric::kInnerProduct) Normalize(query);

  AnnParams params;
  params.nprobe = request.params().nprobe();
  params.ef_search = request.params().ef_search();
  const auto start = std::chrono::steady_clock::now();
  absl::StatusOr<IndexSearchResult> found =
      index_->Search(query.data(), request.k(), request.principal(), request.filter(), params);
  if (!found.ok()) return found.status();
  if (options_.metrics != nullptr) {
    options_.metrics->SearchDone(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }

  v1::SearchResponse response;
  response.set_shard(options_.shard_id);
  response.set_sequence(found->sequence);
  response.set_candidates_scanned(found->candidates);
  const bool details = request.include_text() || request.include_metadata();
  std::vector<uint64_t> ids;
  for (const ScoredChunk& scored : found->hits) {
    v1::Hit* hit = response.add_hits();
    hit->set_chunk_id(scored.chunk_id);
    hit->set_doc_id(scored.doc_id);
    hit->set_tenant(scored.tenant);
    hit->set_score(scored.score);
    hit->set_ordinal(scored.ordinal);
    hit->set_shard(options_.shard_id);
    ids.push_back(scored.chunk_id);
  }
  if (!details || ids.empty()) return response;

  // Text and metadata come from RocksDB; a chunk deleted since the search is dropped.
  absl::StatusOr<std::vector<v1::Chunk>> chunks = store_->GetChunks(ids);
  if (!chunks.ok()) return chunks.status();
  absl::flat_hash_map<uint64_t, const v1::Chunk*> by_id;
  for (const v1::Chunk& chunk : *chunks) by_id[chunk.id()] = &chunk;
  v1::SearchResponse filled;
  filled.set_shard(response.shard());
  filled.set_sequence(response.sequence());
  filled.set_candidates_scanned(response.candidates_scanned());
  for (v1::Hit& hit : *response.mutable_hits()) {
    auto it = by_id.find(hit.chunk_id());
    if (it == by_id.end()) continue;
    const v1::Chunk& chunk = *it->second;
    hit.set_title(chunk.title());
    hit.set_source(chunk.source());
    *hit.mutable_heading_path() = chunk.heading_path();
    if (request.include_text()) hit.set_text(chunk.text());
    if (request.include_metadata()) *hit.mutable_metadata() = chunk.metadata();
    *filled.add_hits() = std::move(hit);
  }
  return filled;
}

absl::StatusOr<v1::GetChunksResponse> Shard::GetChunks(const v1::GetChunksRequest& request) const {
  absl::Status status = ValidateGetChunks(request, options_.limits);
  if (!status.ok()) return status;
  std::vector<uint64_t> ids(request.chunk_ids().begin(), request.chunk_ids().end());
  for (const std::string& doc_id : request.doc_ids()) {
    absl::StatusOr<std::optional<DocumentRecord>> record =
        store_->GetDocument(request.principal().tenant(), doc_id);
    if (!record.ok()) return record.status();
    if (*record)
      ids.insert(ids.end(), (*record)->chunk_ids().begin(), (*record)->chunk_ids().end());
  }
  absl::StatusOr<std::vector<v1::Chunk>> chunks = store_->GetChunks(ids);
  if (!chunks.ok()) return chunks.status();

  v1::GetChunksResponse response;
  absl::flat_hash_set<uint64_t> returned;
  for (v1::Chunk& chunk : *chunks) {
    if (!IsVisible(chunk, request.principal())) continue;
    if (!request.include_vectors()) chunk.clear_vector();
    returned.insert(chunk.id());
    *response.add_chunks() = std::move(chunk);
  }
  for (uint64_t id : request.chunk_ids()) {
    if (!returned.contains(id)) response.add_missing_chunk_ids(id);
  }
  return response;
}

absl::StatusOr<v1::DocumentVersionsResponse> Shard::GetDocumentVersions(
    const v1::DocumentVersionsRequest& request) const {
  v1::DeleteRequest same_shape;
  same_shape.set_tenant(request.tenant());
  *same_shape.mutable_doc_ids() = request.doc_ids();
  absl::Status status = ValidateDelete(same_shape, options_.limits);
  if (!status.ok()) return status;
  v1::DocumentVersionsResponse response;
  for (const std::string& doc_id : request.doc_ids()) {
    absl::StatusOr<std::optional<DocumentRecord>> record =
        store_->GetDocument(request.tenant(), doc_id);
    if (!record.ok()) return record.status();
    if (!*record) continue;
    v1::DocumentVersion* version = response.add_documents();
    version->set_doc_id(doc_id);
    version->set_content_hash((*record)->content_hash());
    version->set_chunks((*record)->chunk_ids_size());
    version->set_updated_unix_ms((*record)->updated_unix_ms());
    version->set_sequence((*record)->sequence());
  }
  return response;
}

v1::StatsResponse Shard::Stats() const {
  VectorIndexStats index = index_->stats();
  StoreCounts counts = store_->counts();
  v1::StatsResponse stats;
  stats.set_shard(options_.shard_id);
  stats.set_dimension(options_.dimension);
  stats.set_metric(std::string(MetricName(options_.metric)));
  stats.set_index_spec(options_.index_spec);
  stats.set_index_type(index.index_type);
  stats.set_trained(index.trained);
  stats.set_documents(counts.documents);
  stats.set_chunks(counts.chunks);
  stats.set_vectors_indexed(index.indexed);
  stats.set_vectors_buffered(index.buffered);
  stats.set_tombstones(index.tombstones);
  stats.set_sequence(store_->last_sequence());
  stats.set_snapshot_sequence(snapshot_sequence_.load());
  stats.set_index_memory_bytes(index.memory_bytes);
  stats.set_disk_bytes(store_->disk_bytes());
  stats.set_pending_compaction_bytes(store_->pending_compaction_bytes());
  stats.set_max_k(options_.limits.max_k);
  return stats;
}

absl::StatusOr<bool> Shard::MaintainOnce() {
  bool worked = false;
  absl::StatusOr<size_t> moved = index_->IndexBuffered(kMoveBudget);
  if (!moved.ok()) return moved.status();
  worked = *moved > 0;
  if (index_->buffered() == 0 && index_->NeedsRebuild()) {
    absl::Status status = index_->Rebuild(
        [this](absl::Span<const uint64_t> ids, std::vector<float>& vectors,
               std::vector<bool>& found) { return store_->ReadVectors(ids, vectors, found); });
    if (!status.ok()) return status;
    worked = true;
  }
  if (index_->tombstones() > 0) {
    absl::StatusOr<size_t> purged = index_->PurgeTombstones();
    if (!purged.ok()) return purged.status();
    worked = worked || *purged > 0;
  }
  return worked;
}

absl::Status Shard::Snapshot() {
  std::lock_guard lock(snapshot_mu_);
  const uint64_t version = index_->version();
  if (snapshot_version_ == version) return absl::OkStatus();  // nothing changed since
  absl::StatusOr<uint64_t> covered = index_->SaveSnapshot(SnapshotPath(options_));
  if (!covered.ok()) return covered.status();
  absl::Status status = store_->TrimChangesThrough(*covered);
  if (!status.ok()) return status;
  snapshot_sequence_ = *covered;
  snapshot_version_ = version;
  last_snapshot_ = std::chrono::steady_clock::now();
  return absl::OkStatus();
}

absl::StatusOr<v1::BackupResponse> Shard::Backup(const std::string& directory) {
  std::unique_lock backup(backup_mu_, std::try_to_lock);
  if (!backup.owns_lock()) {
    return absl::AbortedError(absl::StrCat("a backup of shard ", options_.shard_id,
                                           " is already running; retry when it is done"));
  }
  const auto start = std::chrono::steady_clock::now();
  absl::StatusOr<bool> created = PrepareBackupDirectory(directory);
  if (!created.ok()) return created.status();

  // The snapshot first, then the checkpoint: the checkpoint then holds every write the
  // snapshot covers, and the change records after it stay untrimmed until the checkpoint is
  // taken, because no snapshot of the shard's own runs meanwhile.
  v1::ShardBackupManifest manifest;
  absl::Status status;
  {
    std::lock_guard lock(snapshot_mu_);
    absl::StatusOr<uint64_t> covered = index_->SaveSnapshot(directory + "/index");
    if (!covered.ok()) {
      status = covered.status();
    } else {
      manifest.set_index_sequence(*covered);
      absl::StatusOr<CheckpointInfo> checkpoint = store_->Checkpoint(directory + "/db");
      if (!checkpoint.ok()) {
        status = checkpoint.status();
      } else {
        manifest.set_sequence(checkpoint->sequence);
        manifest.set_documents(checkpoint->counts.documents);
        manifest.set_chunks(checkpoint->counts.chunks);
      }
    }
  }
  if (status.ok()) {
    manifest.set_format(kBackupFormat);
    manifest.set_shard(options_.shard_id);
    manifest.set_dimension(options_.dimension);
    manifest.set_metric(std::string(MetricName(options_.metric)));
    manifest.set_index_spec(options_.index_spec);
    manifest.set_quarry_version(std::string(runtime::Version()));
    manifest.set_created_unix_ms(absl::ToUnixMillis(absl::Now()));
    status = WriteJsonManifest(absl::StrCat(directory, "/", kShardBackupManifest), manifest);
  }
  if (!status.ok()) {
    DiscardBackupDirectory(directory, *created);
    runtime::Logger("shard")->warn("backup into '{}' failed: {}", directory, status.ToString());
    return status;
  }

  v1::BackupResponse response;
  response.set_directory(directory);
  response.set_seconds(
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  runtime::Logger("shard")->info(
      "backup into '{}': {} documents, {} chunks at sequence {} (index at {}) in {:.2f}s",
      directory, manifest.documents(), manifest.chunks(), manifest.sequence(),
      manifest.index_sequence(), response.seconds());
  *response.mutable_manifest() = std::move(manifest);
  return response;
}

void Shard::MaintenanceLoop() {
  auto log = runtime::Logger("shard");
  auto retry_at = std::chrono::steady_clock::now();
  while (true) {
    {
      std::unique_lock lock(maintenance_mu_);
      if (stopping_) return;
    }
    bool worked = false;
    if (std::chrono::steady_clock::now() >= retry_at) {
      absl::StatusOr<bool> result = MaintainOnce();
      if (!result.ok()) {
        log->warn("index maintenance failed, retrying in {}s: {}", kRetryAfterFailure.count(),
                  result.status().ToString());
        retry_at = std::chrono::steady_clock::now() + kRetryAfterFailure;
      } else {
        worked = *result;
      }
    }

    uint64_t pending;
    std::chrono::steady_clock::time_point last;
    {
      std::lock_guard lock(snapshot_mu_);
      pending = index_->applied_sequence() - snapshot_sequence_;
      last = last_snapshot_;
    }
    const bool due =
        pending >= options_.snapshot_after_writes ||
        (pending > 0 && std::chrono::steady_clock::now() - last >= options_.snapshot_interval);
    if (due) {
      absl::Status status = Snapshot();
      if (!status.ok()) log->warn("index snapshot failed: {}", status.ToString());
    }

    if (!worked) {
      std::unique_lock lock(maintenance_mu_);
      maintenance_cv_.wait_for(lock, kIdleWait, [this] { return stopping_; });
    }
  }
}

void Shard::StopMaintenance() {
  {
    std::lock_guard lock(maintenance_mu_);
    stopping_ = true;
  }
  maintenance_cv_.notify_all();
  if (maintenance_thread_.joinable()) maintenance_thread_.join();
}

absl::Status Shard::Close() {
  StopMaintenance();
  return Snapshot();
}

}  // namespace quarry::shard
