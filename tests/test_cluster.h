// A whole cluster of real processes on loopback for tests: shards (each with replicas) and a
// router over them.
#ifndef QUARRY_TESTS_TEST_CLUSTER_H_
#define QUARRY_TESTS_TEST_CLUSTER_H_

#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "shard/test_util.h"
#include "tests/quarry_process.h"

namespace quarry::testing {

class TestCluster {
 public:
  TestCluster(int shards, int replicas, int dimension, std::string spec = "Flat")
      : shard_count_(shards),
        replica_count_(replicas),
        dimension_(dimension),
        spec_(std::move(spec)) {}

  // Starts every shard replica and then the router.
  absl::Status Start(std::vector<std::string> router_args = {}) {
    for (int s = 0; s < shard_count_; ++s) {
      for (int r = 0; r < replica_count_; ++r) {
        auto replica = std::make_unique<ShardProcess>(std::vector<std::string>{
            "--data", absl::StrCat(dir_.path(), "/s", s, "r", r), "--dim",
            std::to_string(dimension_), "--index", spec_, "--shard-id", std::to_string(s)});
        absl::Status started = replica->Start();
        if (!started.ok()) return started;
        replicas_.push_back(std::move(replica));
      }
    }
    std::vector<std::string> addresses;
    for (const auto& replica : replicas_) addresses.push_back(replica->address());
    return StartRouter(addresses, std::move(router_args));
  }

  // Writes a topology over `addresses` (shard-major) and (re)starts the router on it.
  absl::Status StartRouter(const std::vector<std::string>& addresses,
                           std::vector<std::string> router_args = {}) {
    WriteTopology(addresses);
    router_.reset();
    std::vector<std::string> args = {"--topology", topology_path(), "--health-interval", "0.1"};
    args.insert(args.end(), router_args.begin(), router_args.end());
    router_ = std::make_unique<QuarryProcess>("router", args);
    return router_->Start();
  }

  void WriteTopology(const std::vector<std::string>& addresses) {
    std::ofstream out(topology_path());
    out << "shards:\n";
    for (int s = 0; s < shard_count_; ++s) {
      out << "  - replicas: [";
      for (int r = 0; r < replica_count_; ++r) {
        out << (r ? ", " : "") << addresses[s * replica_count_ + r];
      }
      out << "]\n";
    }
  }

  std::string topology_path() const { return dir_.path() + "/topology.yaml"; }
  QuarryProcess& router() { return *router_; }
  ShardProcess& replica(int shard, int replica) {
    return *replicas_[shard * replica_count_ + replica];
  }
  int dimension() const { return dimension_; }

 private:
  const int shard_count_;
  const int replica_count_;
  const int dimension_;
  const std::string spec_;
  shard::testing::TempDir dir_;
  std::vector<std::unique_ptr<ShardProcess>> replicas_;
  std::unique_ptr<QuarryProcess> router_;
};

}  // namespace quarry::testing

#endif  // QUARRY_TESTS_TEST_CLUSTER_H_
