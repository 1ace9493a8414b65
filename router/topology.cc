#include "router/topology.h"

#include <yaml-cpp/yaml.h>

#include <fstream>
#include <set>
#include <sstream>

#include "absl/strings/str_cat.h"

namespace quarry::router {
namespace {

absl::Status Invalid(const YAML::Node& node, absl::string_view problem) {
  const YAML::Mark mark = node.Mark();
  if (mark.is_null()) return absl::InvalidArgumentError(absl::StrCat("topology: ", problem));
  return absl::InvalidArgumentError(absl::StrCat("topology line ", mark.line + 1, ": ", problem));
}

// host:port with a port from 1 to 65535; hosts are names or IPv4/IPv6 addresses ([::1]:7310).
bool IsAddress(const std::string& address) {
  size_t colon = address.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == address.size()) return false;
  const std::string port = address.substr(colon + 1);
  if (port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos) return false;
  const int number = std::stoi(port);
  return number >= 1 && number <= 65535 && address.find_first_of(" \t/") == std::string::npos;
}

}  // namespace

absl::StatusOr<Topology> ParseTopology(const std::string& yaml) {
  YAML::Node root;
  try {
    root = YAML::Load(yaml);
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("topology line ", e.mark.line + 1, ": ", e.msg));
  }
  if (!root.IsMap() || !root["shards"]) {
    return Invalid(root, "expected a map with a 'shards' list");
  }
  const YAML::Node shards = root["shards"];
  if (!shards.IsSequence() || shards.size() == 0) {
    return Invalid(shards, "'shards' must be a non-empty list");
  }

  Topology topology;
  std::set<std::string> seen;
  for (size_t i = 0; i < shards.size(); ++i) {
    const YAML::Node shard = shards[i];
    const YAML::Node replicas = shard.IsMap() ? shard["replicas"] : YAML::Node();
    if (!replicas || !replicas.IsSequence() || replicas.size() == 0) {
      return Invalid(shard, absl::StrCat("shard ", i, " needs a non-empty 'replicas' list"));
    }
    ShardTopology& out = topology.shards.emplace_back();
    for (const YAML::Node& replica : replicas) {
      if (!replica.IsScalar()) return Invalid(replica, "a replica must be a host:port string");
      const std::string address = replica.as<std::string>();
      if (!IsAddress(address)) {
        return Invalid(replica, absl::StrCat("'", address, "' is not host:port"));
      }
      if (!seen.insert(address).second) {
        return Invalid(replica, absl::StrCat("'", address, "' appears twice"));
      }
      out.replicas.push_back(address);
    }
  }
  return topology;
}

absl::StatusOr<Topology> LoadTopology(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read topology file '", path, "'"));
  std::stringstream contents;
  contents << in.rdbuf();
  absl::StatusOr<Topology> topology = ParseTopology(contents.str());
  if (!topology.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": ", topology.status().message()));
  }
  return topology;
}

}  // namespace quarry::router
