#include "shard/vector_index.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "shard/test_util.h"

namespace quarry::shard {
namespace {

constexpr int kDim = 16;

// Chunks kept in memory as the source of truth, as RocksDB is for a real shard.
class FakeStore {
 public:
  const v1::Chunk& Put(const std::string& tenant, uint64_t id, uint64_t seed,
                       std::vector<std::string> groups = {}) {
    v1::Chunk& chunk = chunks_[id];
    chunk.set_id(id);
    chunk.set_tenant(tenant);
    chunk.set_doc_id("doc-" + std::to_string(id));
    for (const std::string& group : groups) chunk.add_acl_groups(group);
    std::vector<float> vector = testing::RandomVector(kDim, seed);
    chunk.mutable_vector()->Assign(vector.begin(), vector.end());
    return chunk;
  }
  void Erase(uint64_t id) { chunks_.erase(id); }

  VectorSource Source() {
    return [this](absl::Span<const uint64_t> ids, std::vector<float>& vectors,
                  std::vector<bool>& found) {
      vectors.assign(ids.size() * kDim, 0);
      found.assign(ids.size(), false);
      for (size_t i = 0; i < ids.size(); ++i) {
        auto it = chunks_.find(ids[i]);
        if (it == chunks_.end()) continue;
        std::copy(it->second.vector().begin(), it->second.vector().end(),
                  vectors.begin() + i * kDim);
        found[i] = true;
      }
      return absl::OkStatus();
    };
  }

 private:
  std::map<uint64_t, v1::Chunk> chunks_;
};

std::unique_ptr<VectorIndex> MakeIndex(const std::string& spec, Metric metric = Metric::kL2,
                                       size_t train_min = 0) {
  VectorIndexOptions options;
  options.dimension = kDim;
  options.metric = metric;
  options.spec = spec;
  options.train_min = train_min;
  options.rebuild_min_tombstones = 10;
  absl::StatusOr<std::unique_ptr<VectorIndex>> index = VectorIndex::Create(options);
  EXPECT_TRUE(index.ok()) << index.status();
  return *std::move(index);
}

void AddChunks(VectorIndex& index, FakeStore& store, uint64_t first, int n, uint64_t sequence,
               const std::string& tenant = "acme") {
  IndexUpdate update;
  update.sequence = sequence;
  for (int i = 0; i < n; ++i) update.added.push_back(&store.Put(tenant, first + i, first + i));
  index.Apply({update});
}

void DrainBuffer(VectorIndex& index) {
  while (index.buffered() > 0) ASSERT_TRUE(index.IndexBuffered(std::chrono::seconds(1)).ok());
}

std::vector<uint64_t> SearchIds(const VectorIndex& index, uint64_t seed, int k,
                                const std::string& tenant = "acme",
                                std::vector<std::string> groups = {}) {
  std::vector<float> query = testing::RandomVector(kDim, seed);
  v1::Principal principal;
  principal.set_tenant(tenant);
  for (const std::string& group : groups) principal.add_groups(group);
  absl::StatusOr<IndexSearchResult> result =
      index.Search(query.data(), k, principal, v1::Filter(), AnnParams{64, 256});
  EXPECT_TRUE(result.ok()) << result.status();
  std::vector<uint64_t> ids;
  for (const ScoredChunk& hit : result->hits) ids.push_back(hit.chunk_id);
  return ids;
}

TEST(VectorIndex, FreshWritesAreSearchableBeforeIndexing) {
  FakeStore store;
  auto index = MakeIndex("HNSW16");
  AddChunks(*index, store, 1, 100, 1);
  EXPECT_EQ(index->buffered(), 100u);
  EXPECT_EQ(SearchIds(*index, 42, 1), std::vector<uint64_t>{42});
  EXPECT_EQ(index->applied_sequence(), 1u);
}

TEST(VectorIndex, MovingTheBufferKeepsExactResults) {
  FakeStore store;
  auto index = MakeIndex("Flat");
  AddChunks(*index, store, 1, 300, 1);
  std::vector<uint64_t> before = SearchIds(*index, 7, 10);
  DrainBuffer(*index);
  EXPECT_EQ(index->stats().indexed, 300u);
  EXPECT_EQ(SearchIds(*index, 7, 10), before);
}

TEST(VectorIndex, DeletedAndReplacedChunksNeverComeBack) {
  FakeStore store;
  auto index = MakeIndex("HNSW16");
  AddChunks(*index, store, 1, 200, 1);
  DrainBuffer(*index);

  // Delete chunk 5 and give chunk 6 the vector of seed 5000.
  IndexUpdate update;
  update.sequence = 2;
  update.removed.push_back(5);
  store.Erase(5);
  const v1::Chunk& replaced = store.Put("acme", 6, 5000);
  update.added.push_back(&replaced);
  index->Apply({update});

  EXPECT_NE(SearchIds(*index, 5, 1), std::vector<uint64_t>{5});
  std::vector<uint64_t> near_old_six = SearchIds(*index, 6, 1);
  ASSERT_EQ(near_old_six.size(), 1u);
  EXPECT_NE(near_old_six[0], 6u);
  EXPECT_EQ(SearchIds(*index, 5000, 1), std::vector<uint64_t>{6});
  EXPECT_EQ(index->tombstones(), 2u);
}

TEST(VectorIndex, HnswRebuildsOnceTombstonesPileUp) {
  FakeStore store;
  auto index = MakeIndex("HNSW16");
  AddChunks(*index, store, 1, 100, 1);
  DrainBuffer(*index);
  IndexUpdate update;
  update.sequence = 2;
  for (uint64_t id = 1; id <= 40; ++id) {
    update.removed.push_back(id);
    store.Erase(id);
  }
  index->Apply({update});
  ASSERT_TRUE(index->NeedsRebuild());
  ASSERT_TRUE(index->Rebuild(store.Source()).ok());
  EXPECT_EQ(index->tombstones(), 0u);
  EXPECT_EQ(index->stats().indexed, 60u);
  EXPECT_EQ(SearchIds(*index, 77, 1), std::vector<uint64_t>{77});
}

TEST(VectorIndex, IvfServesFlatUntilTrainedThenSwaps) {
  FakeStore store;
  auto index = MakeIndex("IVF4,Flat", Metric::kL2, 400);
  AddChunks(*index, store, 1, 300, 1);
  DrainBuffer(*index);
  EXPECT_FALSE(index->stats().trained);
  EXPECT_FALSE(index->NeedsRebuild());
  AddChunks(*index, store, 301, 200, 2);
  DrainBuffer(*index);
  ASSERT_TRUE(index->NeedsRebuild());
  ASSERT_TRUE(index->Rebuild(store.Source()).ok());
  VectorIndexStats stats = index->stats();
  EXPECT_TRUE(stats.trained);
  EXPECT_EQ(stats.index_type, "IndexIVFFlat");
  EXPECT_EQ(stats.indexed, 500u);
  EXPECT_EQ(SearchIds(*index, 250, 1), std::vector<uint64_t>{250});

  // IVF removes deleted vectors outright.
  IndexUpdate update;
  update.sequence = 3;
  update.removed = {250, 251};
  index->Apply({update});
  EXPECT_EQ(*index->PurgeTombstones(), 0u);  // too few to be worth a scan yet
  absl::StatusOr<size_t> purged = index->PurgeTombstones(/*force=*/true);
  ASSERT_TRUE(purged.ok());
  EXPECT_EQ(*purged, 2u);
  EXPECT_EQ(index->stats().indexed, 498u);
  EXPECT_NE(SearchIds(*index, 250, 1), std::vector<uint64_t>{250});
}

TEST(VectorIndex, TenantsAndGroupsAreEnforcedInEveryPath) {
  for (const char* spec : {"Flat", "HNSW16", "LSH"}) {
    SCOPED_TRACE(spec);
    FakeStore store;
    auto index = MakeIndex(spec);
    AddChunks(*index, store, 1, 100, 1, "acme");
    AddChunks(*index, store, 101, 100, 2, "globex");
    IndexUpdate secret;
    secret.sequence = 3;
    secret.added.push_back(&store.Put("acme", 500, 500, {"hr"}));
    index->Apply({secret});
    DrainBuffer(*index);

    for (uint64_t id : SearchIds(*index, 150, 20, "acme")) {
      EXPECT_LE(id, 100u);
    }
    EXPECT_EQ(SearchIds(*index, 150, 20, "acme").size(), 20u);
    EXPECT_EQ(SearchIds(*index, 150, 1, "globex"), std::vector<uint64_t>{150});
    EXPECT_EQ(SearchIds(*index, 500, 1, "acme", {"eng"})[0] == 500, false);
    EXPECT_EQ(SearchIds(*index, 500, 1, "acme", {"hr"}), std::vector<uint64_t>{500});
    EXPECT_TRUE(SearchIds(*index, 500, 5, "initech").empty());
  }
}

TEST(VectorIndex, SnapshotRoundTripsAndDetectsDamage) {
  testing::TempDir dir;
  FakeStore store;
  auto index = MakeIndex("HNSW16");
  AddChunks(*index, store, 1, 200, 1);
  DrainBuffer(*index);
  AddChunks(*index, store, 201, 20, 2);  // left in the buffer
  IndexUpdate update;
  update.sequence = 3;
  update.removed = {10};
  index->Apply({update});

  const std::string path = dir.path() + "/index";
  absl::StatusOr<uint64_t> covered = index->SaveSnapshot(path);
  ASSERT_TRUE(covered.ok()) << covered.status();
  EXPECT_EQ(*covered, 3u);

  VectorIndexOptions options;
  options.dimension = kDim;
  options.metric = Metric::kL2;
  options.spec = "HNSW16";
  absl::StatusOr<std::unique_ptr<VectorIndex>> loaded = VectorIndex::LoadSnapshot(options, path);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ((*loaded)->applied_sequence(), 3u);
  EXPECT_EQ((*loaded)->stats().chunks, 219u);
  EXPECT_EQ((*loaded)->buffered(), 20u);
  EXPECT_EQ((*loaded)->tombstones(), 1u);
  for (uint64_t seed : {3, 10, 150, 210}) {
    EXPECT_EQ(SearchIds(**loaded, seed, 5), SearchIds(*index, seed, 5)) << seed;
  }

  options.spec = "Flat";
  EXPECT_EQ(VectorIndex::LoadSnapshot(options, path).status().code(),
            absl::StatusCode::kFailedPrecondition);
  options.spec = "HNSW16";
  {
    std::fstream table(path + "/table.pb", std::ios::in | std::ios::out | std::ios::binary);
    table.seekp(40);
    table.put('\x7f');
  }
  EXPECT_EQ(VectorIndex::LoadSnapshot(options, path).status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(VectorIndex::LoadSnapshot(options, dir.path() + "/none").status().code(),
            absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace quarry::shard
