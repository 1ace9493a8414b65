#include "router/placement.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace quarry::router {
namespace {

TEST(Placement, IsStableAndSpreadsDocumentsEvenly) {
  constexpr uint32_t kShards = 3;
  std::vector<int> counts(kShards);
  for (int i = 0; i < 30000; ++i) {
    const std::string id = "doc-" + std::to_string(i);
    const uint32_t shard = PlaceDocument("acme", id, kShards);
    ASSERT_LT(shard, kShards);
    ASSERT_EQ(shard, PlaceDocument("acme", id, kShards));
    ++counts[shard];
  }
  for (int count : counts) EXPECT_NEAR(count, 10000, 500);
}

TEST(Placement, TenantIsPartOfTheKey) {
  int differ = 0;
  for (int i = 0; i < 1000; ++i) {
    const std::string id = "doc-" + std::to_string(i);
    differ += PlaceDocument("acme", id, 8) != PlaceDocument("globex", id, 8);
  }
  EXPECT_GT(differ, 700);
}

// Growing from n to n+1 shards moves about 1/(n+1) of the documents, all to the new shard.
TEST(Placement, AddingAShardMovesFewDocuments) {
  int moved = 0;
  for (int i = 0; i < 20000; ++i) {
    const std::string id = "doc-" + std::to_string(i);
    const uint32_t before = PlaceDocument("t", id, 4);
    const uint32_t after = PlaceDocument("t", id, 5);
    if (before != after) {
      ++moved;
      EXPECT_EQ(after, 4u);
    }
  }
  EXPECT_NEAR(moved, 4000, 400);
}

}  // namespace
}  // namespace quarry::router
