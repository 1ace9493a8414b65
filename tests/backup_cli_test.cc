// `quarry backup` and `quarry restore` through the binary: a `quarry local` cluster backed up
// while a writer ingests without pause, restored into a new data directory and started again,
// must hold every document acknowledged before the backup began; bad targets and sources are
// refused with a message naming them.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "shard/test_util.h"
#include "tests/quarry_process.h"
#include "tests/test_cluster.h"

namespace quarry {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using testing::CommandResult;
using testing::QuarryProcess;
using testing::RunQuarry;

constexpr int kShards = 2;
constexpr int kDim = 32;
constexpr char kTenant[] = "acme";

// A `quarry local` cluster on free ports over `data_dir`.
class LocalCluster {
 public:
  explicit LocalCluster(const std::string& data_dir)
      : base_port_(testing::FreeBasePort(20)),
        router_(absl::StrCat("127.0.0.1:", base_port_)),
        process_("local",
                 {"--data", data_dir, "--base-port", std::to_string(base_port_), "--shards",
                  std::to_string(kShards), "--dim", std::to_string(kDim), "--drain-seconds", "5"},
                 router_) {}

  absl::Status Start() {
    if (base_port_ == 0) return absl::UnavailableError("no free ports");
    return process_.Start();
  }
  int Terminate() { return process_.Terminate(); }
  std::string Log() const { return process_.Log(); }
  const std::string& router() const { return router_; }
  v1::Router::Stub& stub() { return process_.router(); }

 private:
  int base_port_;
  std::string router_;
  QuarryProcess process_;
};

uint64_t SeedOf(int doc) { return 1000 + doc * 3; }
std::string IdOf(int doc) { return absl::StrCat("doc-", doc); }

grpc::Status Ingest(v1::Router::Stub& router, int doc) {
  v1::IngestRequest request;
  *request.add_documents() = shard::testing::MakeDocument(kTenant, IdOf(doc), 1, kDim, SeedOf(doc));
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  v1::IngestResponse response;
  return router.Ingest(&context, request, &response);
}

// The ids of `docs` that the cluster holds, asked in batches.
std::vector<std::string> Present(v1::Router::Stub& router, const std::vector<int>& docs) {
  std::vector<std::string> present;
  for (size_t begin = 0; begin < docs.size(); begin += 500) {
    v1::DocumentVersionsRequest request;
    request.set_tenant(kTenant);
    for (size_t i = begin; i < docs.size() && i < begin + 500; ++i) {
      request.add_doc_ids(IdOf(docs[i]));
    }
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    v1::DocumentVersionsResponse response;
    grpc::Status status = router.GetDocumentVersions(&context, request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    for (const v1::DocumentVersion& version : response.documents()) {
      present.push_back(version.doc_id());
    }
  }
  return present;
}

// Ingests documents one at a time until stopped, recording when each was acknowledged.
class Writer {
 public:
  explicit Writer(v1::Router::Stub& router)
      : thread_([this, &router] {
          for (int doc = 0; !stop_; ++doc) {
            if (!Ingest(router, doc).ok()) continue;
            std::lock_guard lock(mu_);
            acked_.push_back({doc, Clock::now()});
          }
        }) {}
  ~Writer() { Stop(); }

  void Stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  size_t acked() {
    std::lock_guard lock(mu_);
    return acked_.size();
  }
  // Documents whose acknowledgement came before `time`.
  std::vector<int> AckedBefore(Clock::time_point time) {
    std::lock_guard lock(mu_);
    std::vector<int> docs;
    for (const auto& [doc, at] : acked_) {
      if (at < time) docs.push_back(doc);
    }
    return docs;
  }

 private:
  std::mutex mu_;
  std::vector<std::pair<int, Clock::time_point>> acked_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

TEST(QuarryBackup, RestoredClusterHoldsEveryDocumentAcknowledgedBeforeTheBackupBegan) {
  shard::testing::TempDir dir;
  LocalCluster cluster(dir.path() + "/data");
  const absl::Status started = cluster.Start();
  ASSERT_TRUE(started.ok()) << started << cluster.Log();

  Writer writer(cluster.stub());
  const auto warm_until = Clock::now() + std::chrono::seconds(30);
  while (writer.acked() < 100 && Clock::now() < warm_until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_GE(writer.acked(), 100u) << cluster.Log();

  const std::string backup = dir.path() + "/backup";
  const Clock::time_point began = Clock::now();
  CommandResult backed_up =
      RunQuarry({"backup", "--to", backup, "--router", cluster.router(), "--timeout", "60"},
                std::chrono::seconds(90));
  const size_t acked_during = writer.acked();
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  writer.Stop();
  ASSERT_EQ(backed_up.exit_code, 0) << backed_up.err << cluster.Log();
  EXPECT_TRUE(absl::StrContains(backed_up.out, absl::StrCat("backed up ", kShards, " shards")))
      << backed_up.out;
  EXPECT_TRUE(fs::exists(backup + "/cluster-backup.json"));
  const std::vector<int> before = writer.AckedBefore(began);
  EXPECT_GT(writer.acked(), before.size()) << "the writer did not go on during the backup";
  EXPECT_GE(acked_during, before.size());
  EXPECT_EQ(cluster.Terminate(), 0) << cluster.Log();

  const std::string restored_data = dir.path() + "/restored";
  CommandResult restored = RunQuarry({"restore", "--from", backup, "--data", restored_data});
  ASSERT_EQ(restored.exit_code, 0) << restored.err;
  EXPECT_TRUE(absl::StrContains(restored.out, absl::StrCat("restored ", kShards, " shards")))
      << restored.out;
  for (int s = 0; s < kShards; ++s) {
    EXPECT_TRUE(fs::exists(absl::StrCat(restored_data, "/shard-", s, "-replica-0/db/CURRENT")));
  }

  LocalCluster again(restored_data);
  const absl::Status started_again = again.Start();
  ASSERT_TRUE(started_again.ok()) << started_again << again.Log();
  std::vector<std::string> present = Present(again.stub(), before);
  std::sort(present.begin(), present.end());
  std::vector<std::string> missing;
  for (int doc : before) {
    if (!std::binary_search(present.begin(), present.end(), IdOf(doc))) {
      missing.push_back(IdOf(doc));
    }
  }
  EXPECT_TRUE(missing.empty()) << missing.size() << " of " << before.size()
                               << " documents acknowledged before the backup are missing"
                               << (missing.empty() ? "" : ", the first " + missing.front());

  // Search works on the restored cluster: a document's own vector finds it first.
  for (size_t i = 0; i < before.size(); i += before.size() / 5 + 1) {
    v1::RouterSearchRequest request;
    const std::vector<float> vector = shard::testing::RandomVector(kDim, SeedOf(before[i]));
    request.mutable_vector()->Add(vector.begin(), vector.end());
    request.set_k(3);
    request.mutable_principal()->set_tenant(kTenant);
    request.set_require_full_coverage(true);
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    v1::RouterSearchResponse response;
    grpc::Status status = again.stub().Search(&context, request, &response);
    ASSERT_TRUE(status.ok()) << status.error_message();
    ASSERT_GT(response.hits_size(), 0);
    EXPECT_EQ(response.hits(0).doc_id(), IdOf(before[i]));
  }
  EXPECT_EQ(again.Terminate(), 0) << again.Log();
}

TEST(QuarryBackup, RefusesBadTargetsAndSourcesNamingThem) {
  shard::testing::TempDir dir;
  LocalCluster cluster(dir.path() + "/data");
  const absl::Status started = cluster.Start();
  ASSERT_TRUE(started.ok()) << started << cluster.Log();
  ASSERT_TRUE(Ingest(cluster.stub(), 1).ok());

  CommandResult relative =
      RunQuarry({"backup", "--to", "backups/today", "--router", cluster.router()});
  EXPECT_EQ(relative.exit_code, 1);
  EXPECT_TRUE(absl::StrContains(relative.err, "'backups/today' is not an absolute path"))
      << relative.err;

  const std::string full = dir.path() + "/full";
  fs::create_directories(full);
  std::ofstream(full + "/keep") << "x";
  CommandResult occupied = RunQuarry({"backup", "--to", full, "--router", cluster.router()});
  EXPECT_EQ(occupied.exit_code, 1);
  EXPECT_TRUE(absl::StrContains(occupied.err, "'" + full + "' is not empty")) << occupied.err;

  const std::string backup = dir.path() + "/backup";
  CommandResult good = RunQuarry({"backup", "--to", backup, "--router", cluster.router()});
  ASSERT_EQ(good.exit_code, 0) << good.err;
  EXPECT_EQ(cluster.Terminate(), 0) << cluster.Log();

  // A data directory is not a backup, and neither is a backup missing its manifest.
  CommandResult not_backup =
      RunQuarry({"restore", "--from", dir.path() + "/data", "--data", dir.path() + "/r1"});
  EXPECT_EQ(not_backup.exit_code, 1);
  EXPECT_TRUE(absl::StrContains(not_backup.err, "is not a complete Quarry backup"))
      << not_backup.err;
  EXPECT_FALSE(fs::exists(dir.path() + "/r1"));

  CommandResult into_full = RunQuarry({"restore", "--from", backup, "--data", full});
  EXPECT_EQ(into_full.exit_code, 1);
  EXPECT_TRUE(absl::StrContains(into_full.err, "is not empty")) << into_full.err;

  CommandResult wrong_kind =
      RunQuarry({"restore", "--from", backup, "--shard-data", dir.path() + "/r2"});
  EXPECT_EQ(wrong_kind.exit_code, 1);
  EXPECT_TRUE(absl::StrContains(wrong_kind.err, "give --data")) << wrong_kind.err;

  // One shard's backup restores into a `quarry shard` data directory that serves it.
  const std::string shard_data = dir.path() + "/shard-data";
  CommandResult one = RunQuarry(
      {"restore", "--from", backup + "/shard-" + std::to_string(0), "--shard-data", shard_data});
  ASSERT_EQ(one.exit_code, 0) << one.err;
  EXPECT_TRUE(absl::StrContains(one.out, "restored shard 0")) << one.out;
  testing::ShardProcess shard({"--data", shard_data, "--dim", std::to_string(kDim)});
  const absl::Status shard_started = shard.Start();
  ASSERT_TRUE(shard_started.ok()) << shard_started << shard.Log();
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  v1::StatsResponse stats;
  ASSERT_TRUE(shard.stub().Stats(&context, v1::StatsRequest(), &stats).ok());
  EXPECT_EQ(stats.shard(), 0u);
  EXPECT_EQ(shard.Terminate(), 0);

  fs::remove(backup + "/cluster-backup.json");
  CommandResult torn = RunQuarry({"restore", "--from", backup, "--data", dir.path() + "/r3"});
  EXPECT_EQ(torn.exit_code, 1);
  EXPECT_TRUE(absl::StrContains(torn.err, "is not a complete Quarry backup")) << torn.err;
}

// Waits until the router no longer counts `address` as healthy, or 10 s pass.
bool WaitUntilUnhealthy(v1::Router::Stub& router, const std::string& address) {
  const auto deadline = Clock::now() + std::chrono::seconds(10);
  while (Clock::now() < deadline) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(2));
    v1::GetStatusResponse status;
    if (router.GetStatus(&context, v1::GetStatusRequest(), &status).ok()) {
      for (const v1::ShardStatus& shard : status.shards()) {
        for (const v1::ReplicaStatus& replica : shard.replicas()) {
          if (replica.address() == address && !replica.healthy()) return true;
        }
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

TEST(QuarryBackup, UsesAnotherReplicaAndFailsNamingAShardWithNone) {
  testing::TestCluster cluster(kShards, 2, kDim);
  const absl::Status started = cluster.Start();
  ASSERT_TRUE(started.ok()) << started << cluster.router().Log();
  for (int doc = 0; doc < 20; ++doc) ASSERT_TRUE(Ingest(cluster.router().router(), doc).ok());
  shard::testing::TempDir dir;
  const std::string router = cluster.router().address();

  // One replica of shard 1 down: the other one writes the shard's backup.
  cluster.replica(1, 0).Kill();
  ASSERT_TRUE(WaitUntilUnhealthy(cluster.router().router(), cluster.replica(1, 0).address()));
  CommandResult one_down =
      RunQuarry({"backup", "--to", dir.path() + "/one-down", "--router", router});
  ASSERT_EQ(one_down.exit_code, 0) << one_down.err << cluster.router().Log();
  EXPECT_TRUE(absl::StrContains(one_down.out, "from " + cluster.replica(1, 1).address()))
      << one_down.out;

  // Both down: the backup fails naming shard 1 and is not marked complete.
  cluster.replica(1, 1).Kill();
  ASSERT_TRUE(WaitUntilUnhealthy(cluster.router().router(), cluster.replica(1, 1).address()));
  const std::string failed = dir.path() + "/failed";
  CommandResult none = RunQuarry({"backup", "--to", failed, "--router", router});
  EXPECT_EQ(none.exit_code, 1);
  EXPECT_TRUE(absl::StrContains(none.err, "shard 1: no healthy, up-to-date replica")) << none.err;
  EXPECT_FALSE(absl::StrContains(none.err, "shard 0")) << none.err;
  EXPECT_FALSE(fs::exists(failed + "/cluster-backup.json"));
  CommandResult restore = RunQuarry({"restore", "--from", failed, "--data", dir.path() + "/r"});
  EXPECT_EQ(restore.exit_code, 1);
  EXPECT_TRUE(absl::StrContains(restore.err, "is not a complete Quarry backup")) << restore.err;
}

}  // namespace
}  // namespace quarry
