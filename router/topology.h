// The cluster's layout as the router sees it: shards in order, each with its replica addresses.
//
// Read from a YAML file:
//
//   shards:
//     - replicas: [127.0.0.1:7310, 127.0.0.1:7311]
//     - replicas: [quarry-shard-1-0.quarry-shard:7310]
//
// The order of shards is the placement order: shard i of the file is shard i of the cluster.
#ifndef QUARRY_ROUTER_TOPOLOGY_H_
#define QUARRY_ROUTER_TOPOLOGY_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace quarry::router {

struct ShardTopology {
  std::vector<std::string> replicas;  // host:port
};

struct Topology {
  std::vector<ShardTopology> shards;
};

// Parses topology YAML. INVALID_ARGUMENT names the line of the problem.
absl::StatusOr<Topology> ParseTopology(const std::string& yaml);

// Reads and parses a topology file.
absl::StatusOr<Topology> LoadTopology(const std::string& path);

}  // namespace quarry::router

#endif  // QUARRY_ROUTER_TOPOLOGY_H_
