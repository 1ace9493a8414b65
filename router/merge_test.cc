#include "router/merge.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>

namespace quarry::router {
namespace {

v1::Hit MakeHit(uint64_t chunk, float score, const std::string& doc = "") {
  v1::Hit hit;
  hit.set_chunk_id(chunk);
  hit.set_score(score);
  hit.set_doc_id(doc.empty() ? "d" + std::to_string(chunk) : doc);
  return hit;
}

std::vector<uint64_t> Ids(const std::vector<v1::Hit>& hits) {
  std::vector<uint64_t> ids;
  for (const v1::Hit& hit : hits) ids.push_back(hit.chunk_id());
  return ids;
}

TEST(MergeTopK, KeepsBestScoresAcrossShards) {
  std::mt19937 rng(5);
  std::uniform_real_distribution<float> score(-1, 1);
  std::vector<v1::Hit> everything;
  std::vector<std::vector<v1::Hit>> shards(4);
  for (uint64_t id = 1; id <= 400; ++id) {
    v1::Hit hit = MakeHit(id, score(rng));
    everything.push_back(hit);
    shards[id % 4].push_back(hit);
  }
  auto best_first = [](const v1::Hit& a, const v1::Hit& b) {
    return a.score() != b.score() ? a.score() > b.score() : a.chunk_id() < b.chunk_id();
  };
  // Each shard answers with its own top 10, as a shard does.
  for (auto& shard : shards) {
    std::sort(shard.begin(), shard.end(), best_first);
    shard.resize(10);
  }
  std::sort(everything.begin(), everything.end(), best_first);
  everything.resize(10);
  EXPECT_EQ(Ids(MergeTopK(shards, 10, 0)), Ids(everything));
}

TEST(MergeTopK, BreaksTiesByChunkIdAndDropsDuplicates) {
  std::vector<std::vector<v1::Hit>> shards = {{MakeHit(9, 0.5f), MakeHit(3, 0.5f)},
                                              {MakeHit(5, 0.5f), MakeHit(3, 0.5f)}};
  EXPECT_EQ(Ids(MergeTopK(shards, 10, 0)), (std::vector<uint64_t>{3, 5, 9}));
}

TEST(MergeTopK, CapsHitsPerDocument) {
  std::vector<std::vector<v1::Hit>> shards = {
      {MakeHit(1, 0.9f, "a"), MakeHit(2, 0.8f, "a"), MakeHit(3, 0.7f, "a")},
      {MakeHit(4, 0.6f, "b")}};
  EXPECT_EQ(Ids(MergeTopK(shards, 3, 2)), (std::vector<uint64_t>{1, 2, 4}));
  EXPECT_EQ(Ids(MergeTopK(shards, 2, 0)), (std::vector<uint64_t>{1, 2}));
}

}  // namespace
}  // namespace quarry::router
