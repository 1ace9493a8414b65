#include "shard/chunk_store.h"

#include <gtest/gtest.h>

#include <set>
#include <thread>

#include "shard/chunk_id.h"
#include "shard/test_util.h"

namespace quarry::shard {
namespace {

constexpr int kDim = 8;

ShardMeta Meta(int dimension = kDim, const std::string& metric = "l2") {
  ShardMeta meta;
  meta.set_shard_id(3);
  meta.set_dimension(dimension);
  meta.set_metric(metric);
  meta.set_index_spec("Flat");
  return meta;
}

PreparedDocument Document(const std::string& tenant, const std::string& id, int chunks,
                          uint64_t seed) {
  v1::DocumentChunks entry = testing::MakeDocument(tenant, id, chunks, kDim, seed);
  PreparedDocument doc;
  doc.tenant = tenant;
  doc.doc_id = id;
  for (v1::Chunk chunk : entry.chunks()) {
    chunk.set_id(ChunkIdFor(tenant, id, chunk.ordinal()));
    chunk.set_tenant(tenant);
    chunk.set_doc_id(id);
    doc.chunks.push_back(std::move(chunk));
  }
  return doc;
}

WriteOp Upsert(PreparedDocument doc) {
  WriteOp op;
  op.upserts.push_back(std::move(doc));
  return op;
}

TEST(ChunkStore, UpsertReplacesEveryEarlierChunk) {
  testing::TempDir dir;
  auto store = ChunkStore::Open(dir.path(), Meta(), nullptr);
  ASSERT_TRUE(store.ok()) << store.status();
  std::vector<IndexUpdate> seen;
  (*store)->SetCommitListener([&](absl::Span<const IndexUpdate> updates) {
    for (const IndexUpdate& update : updates) seen.push_back({update.sequence, update.removed, {}});
  });

  absl::StatusOr<WriteResult> first = (*store)->Write(Upsert(Document("acme", "a", 5, 1)));
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->chunks_written, 5u);
  absl::StatusOr<WriteResult> second = (*store)->Write(Upsert(Document("acme", "a", 2, 9)));
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->sequence, first->sequence + 1);
  EXPECT_EQ(second->chunks_removed, 3u);

  auto record = (*store)->GetDocument("acme", "a");
  ASSERT_TRUE(record.ok() && record->has_value());
  EXPECT_EQ((*record)->chunk_ids_size(), 2);
  std::vector<uint64_t> old_ids;
  for (uint32_t ordinal = 0; ordinal < 5; ++ordinal) {
    old_ids.push_back(ChunkIdFor("acme", "a", ordinal));
  }
  auto chunks = (*store)->GetChunks(old_ids);
  ASSERT_TRUE(chunks.ok());
  ASSERT_EQ(chunks->size(), 2u);
  EXPECT_EQ((*chunks)[0].text(), "a passage 0");
  EXPECT_EQ((*store)->counts().chunks, 2u);
  EXPECT_EQ((*store)->counts().documents, 1u);
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[1].removed.size(), 5u);  // the index drops all five old entries
}

TEST(ChunkStore, DeleteReportsUnknownDocumentsAndLogsChanges) {
  testing::TempDir dir;
  auto store = ChunkStore::Open(dir.path(), Meta(), nullptr);
  ASSERT_TRUE(store.ok());
  ASSERT_TRUE((*store)->Write(Upsert(Document("acme", "a", 3, 1))).ok());
  uint64_t after_insert = (*store)->last_sequence();
  WriteOp del;
  del.delete_tenant = "acme";
  del.delete_doc_ids = {"a", "missing"};
  absl::StatusOr<WriteResult> result = (*store)->Write(del);
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result->documents, 1u);
  EXPECT_EQ(result->chunks_removed, 3u);
  EXPECT_EQ(result->not_found, std::vector<std::string>{"missing"});
  EXPECT_EQ((*store)->counts().chunks, 0u);

  auto changed = (*store)->ChangedSince(after_insert);
  ASSERT_TRUE(changed.ok());
  EXPECT_EQ(changed->size(), 3u);
  ASSERT_TRUE((*store)->TrimChangesThrough((*store)->last_sequence()).ok());
  EXPECT_TRUE((*store)->ChangedSince(0)->empty());
}

TEST(ChunkStore, RefusesADirectoryOfAnotherShape) {
  testing::TempDir dir;
  {
    auto store = ChunkStore::Open(dir.path(), Meta(), nullptr);
    ASSERT_TRUE(store.ok());
  }
  auto wrong_dim = ChunkStore::Open(dir.path(), Meta(16), nullptr);
  ASSERT_FALSE(wrong_dim.ok());
  EXPECT_EQ(wrong_dim.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(wrong_dim.status().message().find("dimension 8"), absl::string_view::npos);
  EXPECT_FALSE(ChunkStore::Open(dir.path(), Meta(kDim, "ip"), nullptr).ok());

  ShardMeta other_spec = Meta();
  other_spec.set_index_spec("HNSW32");
  std::string stored;
  ASSERT_TRUE(ChunkStore::Open(dir.path(), other_spec, &stored).ok());
  EXPECT_EQ(stored, "Flat");
}

// Many writers at once: every write gets its own sequence, all are durable across a reopen,
// and the listener sees sequences in increasing order.
TEST(ChunkStore, ConcurrentWritersShareCommitsAndKeepOrder) {
  testing::TempDir dir;
  constexpr int kThreads = 8;
  constexpr int kWritesPerThread = 40;
  {
    auto store = ChunkStore::Open(dir.path(), Meta(), nullptr);
    ASSERT_TRUE(store.ok());
    std::mutex mu;
    std::vector<uint64_t> applied;
    (*store)->SetCommitListener([&](absl::Span<const IndexUpdate> updates) {
      std::lock_guard lock(mu);
      for (const IndexUpdate& update : updates) applied.push_back(update.sequence);
    });
    std::vector<std::thread> threads;
    std::mutex results_mu;
    std::set<uint64_t> sequences;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        for (int i = 0; i < kWritesPerThread; ++i) {
          std::string id = "t" + std::to_string(t) + "-" + std::to_string(i);
          absl::StatusOr<WriteResult> result =
              (*store)->Write(Upsert(Document("acme", id, 2, t * 1000 + i)));
          ASSERT_TRUE(result.ok());
          std::lock_guard lock(results_mu);
          EXPECT_TRUE(sequences.insert(result->sequence).second);
        }
      });
    }
    for (std::thread& thread : threads) thread.join();
    EXPECT_EQ(sequences.size(), static_cast<size_t>(kThreads * kWritesPerThread));
    EXPECT_TRUE(std::is_sorted(applied.begin(), applied.end()));
  }
  auto reopened = ChunkStore::Open(dir.path(), Meta(), nullptr);
  ASSERT_TRUE(reopened.ok());
  EXPECT_EQ((*reopened)->counts().documents, static_cast<uint64_t>(kThreads * kWritesPerThread));
  EXPECT_EQ((*reopened)->last_sequence(), static_cast<uint64_t>(kThreads * kWritesPerThread));
  size_t scanned = 0;
  ASSERT_TRUE((*reopened)->ScanChunks([&](const v1::Chunk&) { return ++scanned > 0; }).ok());
  EXPECT_EQ(scanned, static_cast<size_t>(2 * kThreads * kWritesPerThread));
}

}  // namespace
}  // namespace quarry::shard
