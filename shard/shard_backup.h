// The files of a backup: the manifests that mark a shard or cluster backup complete, the
// checks a backup target must pass, and restoring a shard backup into a data directory.
//
// A shard backup directory holds `db` (a RocksDB checkpoint), `index` (an index snapshot the
// checkpoint covers) and, written last, `shard-backup.json`. A cluster backup holds one shard
// backup per shard in `shard-<n>` and, written last, `cluster-backup.json`. A directory
// without its manifest is an incomplete backup and is never restored.
//
// Thread-compatible: free functions on the filesystem.
#ifndef QUARRY_SHARD_SHARD_BACKUP_H_
#define QUARRY_SHARD_SHARD_BACKUP_H_

#include <google/protobuf/message.h>

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "quarry/v1/shard.pb.h"

namespace quarry::shard {

inline constexpr char kShardBackupManifest[] = "shard-backup.json";
inline constexpr char kClusterBackupManifest[] = "cluster-backup.json";
inline constexpr uint32_t kBackupFormat = 1;

// Makes `path` an empty directory to write a backup into. INVALID_ARGUMENT for a relative
// path, ALREADY_EXISTS for a file or a non-empty directory, FAILED_PRECONDITION when it cannot
// be created; each message names the path. Returns true when it created the directory.
absl::StatusOr<bool> PrepareBackupDirectory(const std::string& path);

// Undoes a failed backup into `path`, which PrepareBackupDirectory returned `created` for:
// removes what was written and, when it was created, the directory.
void DiscardBackupDirectory(const std::string& path, bool created);

// Writes `manifest` as JSON to `path` durably: into a temporary file, synced, renamed.
[[nodiscard]] absl::Status WriteJsonManifest(const std::string& path,
                                             const google::protobuf::Message& manifest);

// Reads a JSON manifest. NOT_FOUND when there is none, DATA_LOSS when it does not parse.
[[nodiscard]] absl::Status ReadJsonManifest(const std::string& path,
                                            google::protobuf::Message* manifest);

// The manifest of the shard backup in `directory`, after checking that the backup is complete
// and of a known format. FAILED_PRECONDITION naming what is missing otherwise.
absl::StatusOr<v1::ShardBackupManifest> ReadShardBackup(const std::string& directory);

// Copies the shard backup in `backup` into `data_dir` (which must not exist or be empty), so
// that `quarry shard --data data_dir` serves it, and checks that the copied database holds
// what the manifest says. On failure nothing is left in `data_dir`. Returns the manifest.
absl::StatusOr<v1::ShardBackupManifest> RestoreShardBackup(const std::string& backup,
                                                           const std::string& data_dir);

}  // namespace quarry::shard

#endif  // QUARRY_SHARD_SHARD_BACKUP_H_
