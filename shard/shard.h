// One shard: a ChunkStore (RocksDB, the source of truth) and the VectorIndex derived from it,
// with recovery on open and a maintenance thread that keeps the index tidy and snapshotted.
//
// Open recovers: it loads the newest index snapshot and catches up on the writes after it
// from RocksDB's change records, or rebuilds the index from every chunk when the snapshot is
// missing or damaged. Requests are validated here; the gRPC service only translates.
//
// Thread-safe.
#ifndef QUARRY_SHARD_SHARD_H_
#define QUARRY_SHARD_SHARD_H_

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "quarry/v1/shard.pb.h"
#include "shard/chunk_store.h"
#include "shard/request_validation.h"
#include "shard/shard_metrics.h"
#include "shard/vector_index.h"

namespace quarry::shard {

struct ShardOptions {
  std::string data_dir;
  uint32_t shard_id = 0;
  int dimension = 0;
  Metric metric = Metric::kInnerProduct;
  std::string index_spec = "Flat";
  RequestLimits limits;  // dimension and metric are filled in from the fields above
  size_t train_min = 0;
  int default_nprobe = 16;
  int default_ef_search = 64;
  std::chrono::milliseconds snapshot_interval{60000};
  uint64_t snapshot_after_writes = 20000;  // acknowledged writes since the last snapshot
  bool maintenance = true;                 // run the background thread (tests may drive it by hand)
  ShardMetrics* metrics = nullptr;         // not owned; null: nothing is recorded
};

class Shard {
 public:
  // Opens or creates the shard in options.data_dir and recovers its index.
  static absl::StatusOr<std::unique_ptr<Shard>> Open(ShardOptions options);

  Shard(const Shard&) = delete;
  Shard& operator=(const Shard&) = delete;
  ~Shard();  // stops maintenance without a snapshot; call Close for a clean shutdown

  absl::StatusOr<v1::UpsertResponse> Upsert(const v1::UpsertRequest& request);
  absl::StatusOr<v1::DeleteResponse> Delete(const v1::DeleteRequest& request);
  absl::StatusOr<v1::SearchResponse> Search(const v1::SearchRequest& request) const;
  absl::StatusOr<v1::GetChunksResponse> GetChunks(const v1::GetChunksRequest& request) const;
  v1::StatsResponse Stats() const;
  // Validated like a delete: a tenant and distinct document ids.
  absl::StatusOr<v1::DocumentVersionsResponse> GetDocumentVersions(
      const v1::DocumentVersionsRequest& request) const;

  // Runs one round of maintenance now: index buffered vectors, train or rebuild, purge
  // tombstones. Returns true when it did anything.
  absl::StatusOr<bool> MaintainOnce();

  // Writes an index snapshot and trims the change records it covers.
  absl::Status Snapshot();

  // Writes a consistent backup into `directory` (absolute; new or empty) while writes go on:
  // an index snapshot at sequence S, then a RocksDB checkpoint holding at least S and the
  // change records after it, then the manifest. A shard opened on a copy of it recovers as on
  // any start. Every write acknowledged before the call is in it. One backup runs at a time;
  // a second is refused with ABORTED. See PrepareBackupDirectory for the refused targets.
  absl::StatusOr<v1::BackupResponse> Backup(const std::string& directory);

  // Stops the maintenance thread and writes a final snapshot.
  absl::Status Close();

 private:
  Shard(ShardOptions options, std::unique_ptr<ChunkStore> store,
        std::unique_ptr<VectorIndex> index);

  absl::Status Recover(const std::string& stored_spec);
  absl::Status RebuildFromStore();
  void MaintenanceLoop();
  void StopMaintenance();

  const ShardOptions options_;
  std::unique_ptr<ChunkStore> store_;
  std::unique_ptr<VectorIndex> index_;

  std::mutex maintenance_mu_;
  std::condition_variable maintenance_cv_;
  bool stopping_ = false;  // guarded by maintenance_mu_
  std::thread maintenance_thread_;

  std::mutex backup_mu_;  // held by the one Backup that may run

  // Serializes Snapshot and Backup: a snapshot trims change records, which a backup in
  // progress needs until its checkpoint is taken. Guards the fields below.
  std::mutex snapshot_mu_;
  std::optional<uint64_t> snapshot_version_;  // the index version the newest snapshot holds
  std::chrono::steady_clock::time_point last_snapshot_ = std::chrono::steady_clock::now();
  std::atomic<uint64_t> snapshot_sequence_{0};
};

}  // namespace quarry::shard

#endif  // QUARRY_SHARD_SHARD_H_
