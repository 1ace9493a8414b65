#include "router/topology.h"

#include <gtest/gtest.h>

namespace quarry::router {
namespace {

TEST(Topology, ParsesShardsInOrder) {
  absl::StatusOr<Topology> topology = ParseTopology(R"(
shards:
  - replicas: [127.0.0.1:7310, 127.0.0.1:7311]
  - replicas:
      - quarry-shard-1-0.quarry-shard.default.svc:7310
)");
  ASSERT_TRUE(topology.ok()) << topology.status();
  ASSERT_EQ(topology->shards.size(), 2u);
  EXPECT_EQ(topology->shards[0].replicas,
            (std::vector<std::string>{"127.0.0.1:7310", "127.0.0.1:7311"}));
  EXPECT_EQ(topology->shards[1].replicas[0], "quarry-shard-1-0.quarry-shard.default.svc:7310");
}

TEST(Topology, ErrorsNameTheLine) {
  struct Case {
    const char* yaml;
    const char* words;
  } cases[] = {
      {"shards: [", "line 1"},
      {"nodes: []", "'shards'"},
      {"shards: []", "non-empty"},
      {"shards:\n  - replicas: []\n", "line 2: shard 0 needs"},
      {"shards:\n  - replicas: [localhost]\n", "line 2: 'localhost' is not host:port"},
      {"shards:\n  - replicas: [a:1]\n  - replicas: [a:1]\n", "line 3: 'a:1' appears twice"},
      {"shards:\n  - replicas: [a:70000]\n", "not host:port"},
  };
  for (const Case& c : cases) {
    absl::StatusOr<Topology> topology = ParseTopology(c.yaml);
    ASSERT_FALSE(topology.ok()) << c.yaml;
    EXPECT_EQ(topology.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(topology.status().message().find(c.words), absl::string_view::npos)
        << topology.status();
  }
  EXPECT_EQ(LoadTopology("/nonexistent/topology.yaml").status().code(),
            absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace quarry::router
