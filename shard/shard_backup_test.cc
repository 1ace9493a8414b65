#include "shard/shard_backup.h"

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <set>
#include <thread>

#include "absl/strings/match.h"
#include "shard/shard.h"
#include "shard/test_util.h"

namespace quarry::shard {
namespace {

namespace fs = std::filesystem;

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

void Upsert(Shard& shard, const std::string& id, int chunks, uint64_t seed) {
  v1::UpsertRequest request;
  *request.add_documents() = testing::MakeDocument("acme", id, chunks, kDim, seed);
  absl::StatusOr<v1::UpsertResponse> response = shard.Upsert(request);
  ASSERT_TRUE(response.ok()) << response.status();
}

void Delete(Shard& shard, const std::string& id) {
  v1::DeleteRequest request;
  request.set_tenant("acme");
  request.add_doc_ids(id);
  ASSERT_TRUE(shard.Delete(request).ok());
}

bool HasDocument(const Shard& shard, const std::string& id) {
  v1::DocumentVersionsRequest request;
  request.set_tenant("acme");
  request.add_doc_ids(id);
  absl::StatusOr<v1::DocumentVersionsResponse> response = shard.GetDocumentVersions(request);
  EXPECT_TRUE(response.ok()) << response.status();
  return response.ok() && response->documents_size() == 1;
}

std::string TopDoc(const Shard& shard, uint64_t seed) {
  absl::StatusOr<v1::SearchResponse> response =
      shard.Search(testing::MakeSearch(testing::RandomVector(kDim, seed), 1, "acme"));
  EXPECT_TRUE(response.ok()) << response.status();
  return response.ok() && response->hits_size() == 1 ? response->hits(0).doc_id() : "";
}

TEST(ShardBackup, RestoresExactlyTheWritesBeforeTheBackup) {
  testing::TempDir dir;
  auto shard = Shard::Open(Options(dir.path() + "/live"));
  ASSERT_TRUE(shard.ok()) << shard.status();
  for (int i = 0; i < 20; ++i) Upsert(**shard, "doc" + std::to_string(i), 3, i * 10);
  ASSERT_TRUE((*shard)->MaintainOnce().ok());
  ASSERT_TRUE((*shard)->Snapshot().ok());
  Delete(**shard, "doc4");           // before the backup, after the live snapshot
  Upsert(**shard, "doc7", 1, 7000);  // a replacement the index snapshot must carry

  const std::string backup = dir.path() + "/backup";
  absl::StatusOr<v1::BackupResponse> done = (*shard)->Backup(backup);
  ASSERT_TRUE(done.ok()) << done.status();
  EXPECT_EQ(done->manifest().documents(), 19u);
  EXPECT_EQ(done->manifest().chunks(), 18u * 3 + 1);
  EXPECT_EQ(done->manifest().sequence(), (*shard)->Stats().sequence());
  EXPECT_EQ(done->manifest().index_spec(), "HNSW16");
  EXPECT_TRUE(fs::exists(backup + "/" + kShardBackupManifest));

  // Writes after the backup must not appear in it.
  Upsert(**shard, "late", 2, 9000);
  Delete(**shard, "doc5");
  ASSERT_TRUE((*shard)->Close().ok());

  const std::string restored_dir = dir.path() + "/restored";
  absl::StatusOr<v1::ShardBackupManifest> manifest = RestoreShardBackup(backup, restored_dir);
  ASSERT_TRUE(manifest.ok()) << manifest.status();
  auto restored = Shard::Open(Options(restored_dir));
  ASSERT_TRUE(restored.ok()) << restored.status();
  v1::StatsResponse stats = (*restored)->Stats();
  EXPECT_EQ(stats.documents(), 19u);
  EXPECT_EQ(stats.chunks(), 18u * 3 + 1);
  EXPECT_FALSE(HasDocument(**restored, "doc4"));
  EXPECT_TRUE(HasDocument(**restored, "doc5"));
  EXPECT_FALSE(HasDocument(**restored, "late"));
  EXPECT_EQ(TopDoc(**restored, 7000), "doc7");
  EXPECT_EQ(TopDoc(**restored, 121), "doc12");
  EXPECT_NE(TopDoc(**restored, 40), "doc4");
  EXPECT_NE(TopDoc(**restored, 9000), "late");
}

TEST(ShardBackup, HoldsEveryWriteAcknowledgedBeforeItUnderWriteLoad) {
  testing::TempDir dir;
  // Flat, so that every nearest-neighbour check below is exact.
  ShardOptions options = Options(dir.path() + "/live", "Flat");
  options.maintenance = true;  // live snapshots trim change records while the backup runs
  options.snapshot_after_writes = 20;
  options.snapshot_interval = std::chrono::milliseconds(10);
  auto shard = Shard::Open(options);
  ASSERT_TRUE(shard.ok()) << shard.status();

  std::mutex mu;
  std::vector<std::string> acknowledged;
  std::atomic<bool> stop{false};
  std::thread writer([&] {
    for (int i = 0; !stop; ++i) {
      const std::string id = "w" + std::to_string(i);
      v1::UpsertRequest request;
      *request.add_documents() = testing::MakeDocument("acme", id, 2, kDim, i * 7);
      if (!(*shard)->Upsert(request).ok()) continue;
      std::lock_guard lock(mu);
      acknowledged.push_back(id);
    }
  });
  while (true) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    std::lock_guard lock(mu);
    if (acknowledged.size() >= 200) break;
  }
  std::vector<std::string> before;
  {
    std::lock_guard lock(mu);
    before = acknowledged;
  }
  absl::StatusOr<v1::BackupResponse> done = (*shard)->Backup(dir.path() + "/backup");
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  stop = true;
  writer.join();
  ASSERT_TRUE(done.ok()) << done.status();
  ASSERT_TRUE((*shard)->Close().ok());

  absl::StatusOr<v1::ShardBackupManifest> manifest =
      RestoreShardBackup(dir.path() + "/backup", dir.path() + "/restored");
  ASSERT_TRUE(manifest.ok()) << manifest.status();
  auto restored = Shard::Open(Options(dir.path() + "/restored", "Flat"));
  ASSERT_TRUE(restored.ok()) << restored.status();
  EXPECT_EQ((*restored)->Stats().documents(), manifest->documents());
  EXPECT_GE(manifest->documents(), before.size());
  for (const std::string& id : before) ASSERT_TRUE(HasDocument(**restored, id)) << id;
  // The index holds them too: each document's first chunk is its own nearest neighbour.
  for (size_t i = 0; i < before.size(); i += 17) {
    EXPECT_EQ(TopDoc(**restored, std::stoull(before[i].substr(1)) * 7), before[i]);
  }
}

TEST(ShardBackup, RefusesBadTargetsNamingThePath) {
  testing::TempDir dir;
  auto shard = Shard::Open(Options(dir.path() + "/live"));
  ASSERT_TRUE(shard.ok()) << shard.status();
  Upsert(**shard, "a", 1, 1);

  absl::Status relative = (*shard)->Backup("backups/today").status();
  EXPECT_EQ(relative.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(relative.message(), "backups/today")) << relative;

  fs::create_directories(dir.path() + "/full");
  std::ofstream(dir.path() + "/full/keep") << "x";
  absl::Status full = (*shard)->Backup(dir.path() + "/full").status();
  EXPECT_EQ(full.code(), absl::StatusCode::kAlreadyExists);
  EXPECT_TRUE(absl::StrContains(full.message(), dir.path() + "/full")) << full;
  EXPECT_TRUE(fs::exists(dir.path() + "/full/keep"));

  const std::string under_file = dir.path() + "/full/keep/backup";
  absl::Status uncreatable = (*shard)->Backup(under_file).status();
  EXPECT_EQ(uncreatable.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(absl::StrContains(uncreatable.message(), under_file)) << uncreatable;

  // An existing empty directory is fine.
  fs::create_directories(dir.path() + "/empty");
  EXPECT_TRUE((*shard)->Backup(dir.path() + "/empty").ok());
}

TEST(ShardBackup, RestoreRefusesIncompleteBackupsAndNonEmptyTargets) {
  testing::TempDir dir;
  fs::create_directories(dir.path() + "/not-a-backup/db");
  absl::Status missing =
      RestoreShardBackup(dir.path() + "/not-a-backup", dir.path() + "/restored").status();
  EXPECT_EQ(missing.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(absl::StrContains(missing.message(), kShardBackupManifest)) << missing;
  EXPECT_FALSE(fs::exists(dir.path() + "/restored"));

  auto shard = Shard::Open(Options(dir.path() + "/live"));
  ASSERT_TRUE(shard.ok()) << shard.status();
  Upsert(**shard, "a", 1, 1);
  ASSERT_TRUE((*shard)->Backup(dir.path() + "/backup").ok());
  absl::Status occupied = RestoreShardBackup(dir.path() + "/backup", dir.path() + "/live").status();
  EXPECT_EQ(occupied.code(), absl::StatusCode::kAlreadyExists) << occupied;

  // A backup whose index snapshot went missing is not complete.
  fs::remove_all(dir.path() + "/backup/index");
  absl::Status torn = ReadShardBackup(dir.path() + "/backup").status();
  EXPECT_EQ(torn.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(absl::StrContains(torn.message(), "index")) << torn;
}

}  // namespace
}  // namespace quarry::shard
