#include "router/cluster_backup.h"

#include <filesystem>
#include <future>
#include <memory>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "services/runtime/log.h"
#include "shard/shard_backup.h"

namespace quarry::router {
namespace {

struct ShardResult {
  absl::Status status;
  v1::ShardBackupEntry entry;
};

// The readable replica of `group` with the fewest calls in flight, or null.
std::shared_ptr<Replica> PickReplica(const ShardGroup& group) {
  std::shared_ptr<Replica> best;
  for (const std::shared_ptr<Replica>& replica : group.replicas) {
    if (!replica->readable()) continue;
    if (best == nullptr || replica->outstanding() < best->outstanding()) best = replica;
  }
  return best;
}

ShardResult BackupShard(const ShardGroup& group, uint32_t shard, const std::string& directory,
                        std::chrono::system_clock::time_point deadline) {
  ShardResult result;
  result.entry.set_shard(shard);
  result.entry.set_directory(absl::StrCat("shard-", shard));
  std::shared_ptr<Replica> replica = PickReplica(group);
  if (replica == nullptr) {
    result.status = absl::UnavailableError("no healthy, up-to-date replica");
    return result;
  }
  result.entry.set_replica(replica->address());

  v1::BackupRequest request;
  request.set_directory(absl::StrCat(directory, "/", result.entry.directory()));
  v1::BackupResponse response;
  grpc::ClientContext context;
  context.set_deadline(deadline);
  // Not counted in the replica's latency or errors: a backup takes far longer than the reads
  // and writes that set hedge delays, and its failures (a full disk) say nothing of theirs.
  grpc::Status status = replica->stub().Backup(&context, request, &response);
  if (!status.ok()) {
    result.status =
        absl::Status(static_cast<absl::StatusCode>(status.error_code()),
                     absl::StrCat("replica ", replica->address(), ": ", status.error_message()));
    return result;
  }
  if (response.manifest().shard() != shard) {
    result.status = absl::FailedPreconditionError(
        absl::StrCat("replica ", replica->address(), " is shard ", response.manifest().shard()));
    return result;
  }
  *result.entry.mutable_manifest() = std::move(*response.mutable_manifest());
  return result;
}

}  // namespace

absl::StatusOr<v1::ClusterBackupResponse> BackupCluster(
    const Cluster& cluster, const std::string& requested,
    std::chrono::system_clock::time_point deadline) {
  // "/backups/today/" and "/backups/./today" name "/backups/today".
  std::filesystem::path normal = std::filesystem::path(requested).lexically_normal();
  if (!normal.has_filename() && normal.has_parent_path()) normal = normal.parent_path();
  const std::string directory = requested.empty() ? requested : normal.string();
  const auto start = std::chrono::steady_clock::now();
  v1::ClusterBackupManifest manifest;
  manifest.set_started_unix_ms(absl::ToUnixMillis(absl::Now()));
  absl::StatusOr<bool> created = shard::PrepareBackupDirectory(directory);
  if (!created.ok()) return created.status();

  std::vector<std::future<ShardResult>> pending;
  for (uint32_t i = 0; i < cluster.shard_count(); ++i) {
    pending.push_back(std::async(std::launch::async, [&cluster, i, &directory, deadline] {
      return BackupShard(cluster.Shard(i), i, directory, deadline);
    }));
  }
  std::vector<std::string> problems;
  absl::StatusCode code = absl::StatusCode::kOk;
  for (uint32_t i = 0; i < pending.size(); ++i) {
    ShardResult result = pending[i].get();
    if (!result.status.ok()) {
      if (code == absl::StatusCode::kOk) code = result.status.code();
      problems.push_back(absl::StrCat("shard ", i, ": ", result.status.message()));
      continue;
    }
    *manifest.add_shard_backups() = std::move(result.entry);
  }
  if (!problems.empty()) {
    const std::string detail = absl::StrJoin(problems, "; ");
    runtime::Logger("router")->warn("backup into '{}' failed: {}", directory, detail);
    return absl::Status(code, absl::StrCat("backup into '", directory,
                                           "' is incomplete and must not be restored: ", detail));
  }

  // Every shard of one cluster has the same dimension, metric and index.
  const v1::ShardBackupManifest& first = manifest.shard_backups(0).manifest();
  for (const v1::ShardBackupEntry& entry : manifest.shard_backups()) {
    if (entry.manifest().dimension() != first.dimension() ||
        entry.manifest().metric() != first.metric()) {
      return absl::FailedPreconditionError(absl::StrCat(
          "shard ", entry.shard(), " has dimension ", entry.manifest().dimension(), " and metric ",
          entry.manifest().metric(), "; shard 0 has ", first.dimension(), " and ", first.metric()));
    }
  }
  manifest.set_format(shard::kBackupFormat);
  manifest.set_shards(cluster.shard_count());
  manifest.set_dimension(first.dimension());
  manifest.set_metric(first.metric());
  manifest.set_index_spec(first.index_spec());
  manifest.set_quarry_version(std::string(runtime::Version()));
  manifest.set_created_unix_ms(absl::ToUnixMillis(absl::Now()));
  absl::Status written = shard::WriteJsonManifest(
      absl::StrCat(directory, "/", shard::kClusterBackupManifest), manifest);
  if (!written.ok()) return written;

  v1::ClusterBackupResponse response;
  response.set_directory(directory);
  response.set_seconds(
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  runtime::Logger("router")->info("backup of {} shards into '{}' complete in {:.2f}s",
                                  manifest.shards(), directory, response.seconds());
  *response.mutable_manifest() = std::move(manifest);
  return response;
}

}  // namespace quarry::router
