#include "shard/shard.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "shard/test_util.h"

namespace quarry::shard {
namespace {

constexpr int kDim = 16;

ShardOptions Options(const std::string& dir, const std::string& spec = "HNSW16") {
  ShardOptions options;
  options.data_dir = dir;
  options.dimension = kDim;
  options.metric = Metric::kInnerProduct;
  options.index_spec = spec;
  options.maintenance = false;
  return options;
}

void Upsert(Shard& shard, const std::string& id, int chunks, uint64_t seed,
            std::vector<std::string> groups = {}) {
  v1::UpsertRequest request;
  *request.add_documents() = testing::MakeDocument("acme", id, chunks, kDim, seed, groups);
  absl::StatusOr<v1::UpsertResponse> response = shard.Upsert(request);
  ASSERT_TRUE(response.ok()) << response.status();
}

std::vector<std::string> TopDocs(const Shard& shard, uint64_t seed, int k) {
  v1::SearchRequest request = testing::MakeSearch(testing::RandomVector(kDim, seed), k, "acme");
  absl::StatusOr<v1::SearchResponse> response = shard.Search(request);
  EXPECT_TRUE(response.ok()) << response.status();
  std::vector<std::string> docs;
  for (const v1::Hit& hit : response->hits()) docs.push_back(hit.doc_id());
  return docs;
}

TEST(Shard, ReadsItsOwnWritesWithTextAndTitle) {
  testing::TempDir dir;
  auto shard = Shard::Open(Options(dir.path()));
  ASSERT_TRUE(shard.ok()) << shard.status();
  Upsert(**shard, "manual", 3, 100);

  v1::SearchRequest request = testing::MakeSearch(testing::RandomVector(kDim, 101), 1, "acme");
  request.set_include_text(true);
  absl::StatusOr<v1::SearchResponse> response = (*shard)->Search(request);
  ASSERT_TRUE(response.ok());
  ASSERT_EQ(response->hits_size(), 1);
  EXPECT_EQ(response->hits(0).doc_id(), "manual");
  EXPECT_EQ(response->hits(0).ordinal(), 1u);
  EXPECT_EQ(response->hits(0).text(), "manual passage 1");
  EXPECT_EQ(response->hits(0).title(), "Title of manual");
  EXPECT_NEAR(response->hits(0).score(), 1.0, 1e-5);  // cosine of a vector with itself

  v1::StatsResponse stats = (*shard)->Stats();
  EXPECT_EQ(stats.documents(), 1u);
  EXPECT_EQ(stats.chunks(), 3u);
}

TEST(Shard, RecoversFromSnapshotPlusLaterWrites) {
  testing::TempDir dir;
  {
    auto shard = Shard::Open(Options(dir.path()));
    ASSERT_TRUE(shard.ok());
    for (int i = 0; i < 20; ++i) Upsert(**shard, "doc" + std::to_string(i), 4, i * 10);
    ASSERT_TRUE((*shard)->MaintainOnce().ok());
    ASSERT_TRUE((*shard)->Snapshot().ok());
    // After the snapshot: a replacement, a deletion and a new document, then a "crash"
    // (no Close, so no final snapshot).
    Upsert(**shard, "doc3", 1, 5000);
    v1::DeleteRequest del;
    del.set_tenant("acme");
    del.add_doc_ids("doc4");
    ASSERT_TRUE((*shard)->Delete(del).ok());
    Upsert(**shard, "late", 2, 9000);
  }
  auto shard = Shard::Open(Options(dir.path()));
  ASSERT_TRUE(shard.ok()) << shard.status();
  v1::StatsResponse stats = (*shard)->Stats();
  EXPECT_EQ(stats.documents(), 20u);
  EXPECT_EQ(stats.chunks(), 19u * 4 - 3 + 2);
  EXPECT_EQ(TopDocs(**shard, 5000, 1), std::vector<std::string>{"doc3"});
  EXPECT_EQ(TopDocs(**shard, 9001, 1), std::vector<std::string>{"late"});
  EXPECT_NE(TopDocs(**shard, 40, 1), std::vector<std::string>{"doc4"});
  EXPECT_NE(TopDocs(**shard, 31, 1), std::vector<std::string>{"doc3"});  // old chunk 1 gone
}

TEST(Shard, RebuildsWhenTheSnapshotIsDamaged) {
  testing::TempDir dir;
  {
    auto shard = Shard::Open(Options(dir.path()));
    ASSERT_TRUE(shard.ok());
    for (int i = 0; i < 10; ++i) Upsert(**shard, "doc" + std::to_string(i), 2, i * 10);
    ASSERT_TRUE((*shard)->Close().ok());
  }
  std::ofstream(dir.path() + "/index/index.faiss", std::ios::trunc) << "garbage";
  auto shard = Shard::Open(Options(dir.path()));
  ASSERT_TRUE(shard.ok()) << shard.status();
  EXPECT_EQ((*shard)->Stats().chunks(), 20u);
  EXPECT_EQ(TopDocs(**shard, 71, 1), std::vector<std::string>{"doc7"});
}

TEST(Shard, ChangingTheIndexSpecRebuildsButDimensionMustMatch) {
  testing::TempDir dir;
  {
    auto shard = Shard::Open(Options(dir.path(), "Flat"));
    ASSERT_TRUE(shard.ok());
    Upsert(**shard, "a", 3, 1);
    ASSERT_TRUE((*shard)->Close().ok());
  }
  {
    auto shard = Shard::Open(Options(dir.path(), "HNSW16"));
    ASSERT_TRUE(shard.ok()) << shard.status();
    EXPECT_EQ((*shard)->Stats().index_type(), "IndexHNSWFlat");
    EXPECT_EQ(TopDocs(**shard, 2, 1), std::vector<std::string>{"a"});
  }
  ShardOptions wrong = Options(dir.path());
  wrong.dimension = kDim * 2;
  EXPECT_EQ(Shard::Open(wrong).status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(Shard::Open(Options(dir.path(), "Bogus")).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(Shard, GetChunksRespectsThePrincipal) {
  testing::TempDir dir;
  auto shard = Shard::Open(Options(dir.path()));
  ASSERT_TRUE(shard.ok());
  Upsert(**shard, "public", 2, 1);
  Upsert(**shard, "secret", 2, 10, {"hr"});
  v1::GetChunksRequest request;
  request.mutable_principal()->set_tenant("acme");
  request.add_doc_ids("public");
  request.add_doc_ids("secret");
  absl::StatusOr<v1::GetChunksResponse> response = (*shard)->GetChunks(request);
  ASSERT_TRUE(response.ok());
  EXPECT_EQ(response->chunks_size(), 2);
  request.mutable_principal()->add_groups("hr");
  EXPECT_EQ((*shard)->GetChunks(request)->chunks_size(), 4);
  EXPECT_TRUE((*shard)->GetChunks(request)->chunks(0).vector().empty());
}

}  // namespace
}  // namespace quarry::shard
