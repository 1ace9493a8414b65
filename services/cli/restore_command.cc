#include "services/cli/restore_command.h"

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "quarry/v1/router.pb.h"
#include "shard/shard_backup.h"

namespace quarry::cli {
namespace {

namespace fs = std::filesystem;

struct RestoreFlags {
  std::string from;
  std::string data_dir;        // a `quarry local` data directory, from a cluster backup
  std::string shard_data_dir;  // a `quarry shard --data` directory, from a shard backup
  int replicas = 1;
};

// What a restore wrote, for the summary.
struct Restored {
  uint32_t shards = 0;
  uint64_t documents = 0;
  uint64_t chunks = 0;
};

// `path` as an absolute path, and an error unless it is absent or an empty directory.
absl::StatusOr<fs::path> CheckTarget(const std::string& path) {
  std::error_code error;
  fs::path target = fs::absolute(path, error).lexically_normal();
  if (error || path.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("bad target directory '", path, "'"));
  }
  if (!target.has_filename()) target = target.parent_path();  // drop a trailing '/'
  if (fs::exists(target, error) && (!fs::is_directory(target) || !fs::is_empty(target, error))) {
    return absl::AlreadyExistsError(absl::StrCat(
        "'", target.string(), "' is not empty; restore only into a new or empty directory"));
  }
  return target;
}

// The cluster backup in `from`: its manifest, each shard's checked against it.
absl::StatusOr<v1::ClusterBackupManifest> ReadClusterBackup(const fs::path& from) {
  v1::ClusterBackupManifest manifest;
  absl::Status status =
      shard::ReadJsonManifest((from / shard::kClusterBackupManifest).string(), &manifest);
  if (!status.ok()) return status;
  if (manifest.format() != shard::kBackupFormat) {
    return absl::FailedPreconditionError(
        absl::StrCat("cluster backup '", from.string(), "' has format ", manifest.format(),
                     "; this release reads ", shard::kBackupFormat));
  }
  if (manifest.shards() == 0 ||
      manifest.shard_backups_size() != static_cast<int>(manifest.shards())) {
    return absl::FailedPreconditionError(
        absl::StrCat("cluster backup '", from.string(), "' lists ", manifest.shard_backups_size(),
                     " shard backups for ", manifest.shards(), " shards"));
  }
  for (uint32_t i = 0; i < manifest.shards(); ++i) {
    const fs::path directory = from / absl::StrCat("shard-", i);
    absl::StatusOr<v1::ShardBackupManifest> shard = shard::ReadShardBackup(directory.string());
    if (!shard.ok()) return shard.status();
    if (shard->shard() != i || shard->dimension() != manifest.dimension() ||
        shard->metric() != manifest.metric() ||
        shard->sequence() != manifest.shard_backups(i).manifest().sequence()) {
      return absl::FailedPreconditionError(absl::StrCat(
          "shard backup '", directory.string(), "' (shard ", shard->shard(), ", sequence ",
          shard->sequence(), ") is not the one the cluster manifest names for shard ", i));
    }
  }
  return manifest;
}

// Restores into a staging directory beside `target`, then renames it into place, so that a
// failed restore leaves nothing that looks like a data directory.
absl::StatusOr<Restored> RestoreStaged(
    const fs::path& target,
    const std::function<absl::StatusOr<Restored>(const fs::path& staging)>& restore) {
  const fs::path staging = target.string() + ".restoring-" + std::to_string(getpid());
  std::error_code error;
  fs::create_directories(staging, error);
  if (error) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot create '", staging.string(), "': ", error.message()));
  }
  absl::StatusOr<Restored> restored = restore(staging);
  if (restored.ok()) {
    if (fs::exists(target)) fs::remove(target, error);  // checked empty before
    if (!error) fs::rename(staging, target, error);
    if (error) {
      restored = absl::InternalError(absl::StrCat("cannot move '", staging.string(), "' to '",
                                                  target.string(), "': ", error.message()));
    }
  }
  if (!restored.ok()) fs::remove_all(staging, error);
  return restored;
}

int Fail(const absl::Status& status) {
  std::fprintf(stderr, "quarry restore: %s\n", std::string(status.message()).c_str());
  return 1;
}

int RestoreCluster(const RestoreFlags& flags, const fs::path& from) {
  absl::StatusOr<v1::ClusterBackupManifest> manifest = ReadClusterBackup(from);
  if (!manifest.ok()) return Fail(manifest.status());
  absl::StatusOr<fs::path> target = CheckTarget(flags.data_dir);
  if (!target.ok()) return Fail(target.status());

  absl::StatusOr<Restored> restored =
      RestoreStaged(*target, [&](const fs::path& staging) -> absl::StatusOr<Restored> {
        Restored restored;
        for (uint32_t s = 0; s < manifest->shards(); ++s) {
          for (int r = 0; r < flags.replicas; ++r) {
            const fs::path replica = staging / absl::StrCat("shard-", s, "-replica-", r);
            absl::StatusOr<v1::ShardBackupManifest> shard = shard::RestoreShardBackup(
                (from / absl::StrCat("shard-", s)).string(), replica.string());
            if (!shard.ok()) return shard.status();
            if (r > 0) continue;
            ++restored.shards;
            restored.documents += shard->documents();
            restored.chunks += shard->chunks();
          }
        }
        return restored;
      });
  if (!restored.ok()) return Fail(restored.status());
  std::printf("restored %u shards x %d replica(s) (%llu documents, %llu chunks) from %s into %s\n",
              restored->shards, flags.replicas,
              static_cast<unsigned long long>(restored->documents),
              static_cast<unsigned long long>(restored->chunks), from.string().c_str(),
              target->string().c_str());
  std::printf(
      "start it with: quarry local --data %s --shards %u --replicas %d --dim %u "
      "--metric %s --index %s\n",
      target->string().c_str(), manifest->shards(), flags.replicas, manifest->dimension(),
      manifest->metric().c_str(), manifest->index_spec().c_str());
  return 0;
}

int RestoreShard(const RestoreFlags& flags, const fs::path& from) {
  absl::StatusOr<fs::path> target = CheckTarget(flags.shard_data_dir);
  if (!target.ok()) return Fail(target.status());
  v1::ShardBackupManifest manifest;
  absl::StatusOr<Restored> restored =
      RestoreStaged(*target, [&](const fs::path& staging) -> absl::StatusOr<Restored> {
        // The shard's data directory is the staging directory itself.
        absl::StatusOr<v1::ShardBackupManifest> shard =
            shard::RestoreShardBackup(from.string(), staging.string());
        if (!shard.ok()) return shard.status();
        manifest = *shard;
        return Restored{1, shard->documents(), shard->chunks()};
      });
  if (!restored.ok()) return Fail(restored.status());
  std::printf("restored shard %u (%llu documents, %llu chunks at sequence %llu) from %s into %s\n",
              manifest.shard(), static_cast<unsigned long long>(manifest.documents()),
              static_cast<unsigned long long>(manifest.chunks()),
              static_cast<unsigned long long>(manifest.sequence()), from.string().c_str(),
              target->string().c_str());
  std::printf(
      "start it with: quarry shard --data %s --shard-id %u --dim %u --metric %s "
      "--index %s\n",
      target->string().c_str(), manifest.shard(), manifest.dimension(), manifest.metric().c_str(),
      manifest.index_spec().c_str());
  return 0;
}

int RunRestore(const RestoreFlags& flags) {
  const fs::path from = fs::absolute(flags.from);
  const bool cluster = fs::exists(from / shard::kClusterBackupManifest);
  const bool single = fs::exists(from / shard::kShardBackupManifest);
  if (!cluster && !single) {
    return Fail(absl::FailedPreconditionError(
        absl::StrCat("'", from.string(), "' is not a complete Quarry backup: it has neither ",
                     shard::kClusterBackupManifest, " nor ", shard::kShardBackupManifest)));
  }
  if (cluster && flags.data_dir.empty()) {
    return Fail(absl::InvalidArgumentError(absl::StrCat(
        "'", from.string(), "' is a cluster backup; give --data DIR to restore it into")));
  }
  if (single && flags.shard_data_dir.empty()) {
    return Fail(absl::InvalidArgumentError(absl::StrCat(
        "'", from.string(), "' is a shard backup; give --shard-data DIR to restore it into")));
  }
  return cluster ? RestoreCluster(flags, from) : RestoreShard(flags, from);
}

}  // namespace

void AddRestoreCommand(CLI::App& app, std::function<int()>* run) {
  auto flags = std::make_shared<RestoreFlags>();
  CLI::App* command = app.add_subcommand(
      "restore", "Restore a backup into a new data directory for quarry local or quarry shard");
  command->footer(
      "A cluster backup (with cluster-backup.json) goes into a quarry local data directory "
      "(--data); one shard's backup (DIR/shard-N, with shard-backup.json) into a quarry shard "
      "data directory (--shard-data). The manifests and the copied databases are checked, the "
      "target must be new or empty, and nothing is left behind when a restore fails.");
  command
      ->add_option("--from", flags->from,
                   "The backup: a directory with cluster-backup.json, or one of its shard-N "
                   "directories (with shard-backup.json)")
      ->required();
  CLI::Option* data =
      command->add_option("--data", flags->data_dir,
                          "New or empty directory for `quarry local --data`: every shard's "
                          "backup is copied into shard-N-replica-R for each replica");
  CLI::Option* shard_data =
      command->add_option("--shard-data", flags->shard_data_dir,
                          "New or empty directory for `quarry shard --data`, from a shard backup");
  data->excludes(shard_data);
  command
      ->add_option("--replicas", flags->replicas,
                   "Replicas of every shard to create with --data (each a full copy)")
      ->capture_default_str()
      ->check(CLI::Range(1, 8));
  command->callback([flags, run] { *run = [flags] { return RunRestore(*flags); }; });
}

}  // namespace quarry::cli
