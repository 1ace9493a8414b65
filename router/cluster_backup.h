// A backup of a whole cluster: every shard backed up through one of its replicas into
// <directory>/shard-<n>, then the cluster manifest written last, so that a directory without
// it is never taken for a complete backup.
//
// The directory must be on a filesystem that the router and every shard replica see as the
// same path: one machine (as with `quarry local`) or shared storage.
//
// Thread-safe: concurrent backups of one shard are refused by the shard.
#ifndef QUARRY_ROUTER_CLUSTER_BACKUP_H_
#define QUARRY_ROUTER_CLUSTER_BACKUP_H_

#include <chrono>
#include <string>

#include "absl/status/statusor.h"
#include "quarry/v1/router.pb.h"
#include "router/cluster.h"

namespace quarry::router {

// Backs up every shard of `cluster` into `directory` (absolute; new or empty), each through a
// readable replica (healthy, not stale) with the fewest calls in flight, all shards at once.
// Fails naming the shard when one has no readable replica or its backup fails; the cluster
// manifest is then not written. Shard calls end by `deadline`.
absl::StatusOr<v1::ClusterBackupResponse> BackupCluster(
    const Cluster& cluster, const std::string& directory,
    std::chrono::system_clock::time_point deadline);

}  // namespace quarry::router

#endif  // QUARRY_ROUTER_CLUSTER_BACKUP_H_
