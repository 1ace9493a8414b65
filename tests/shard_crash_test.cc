// Kills `quarry shard` with SIGKILL at random moments during a stream of concurrent upserts
// and deletes, many times over, and checks after each restart that every acknowledged write
// is there and searchable and that no acknowledged delete came back.
#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include "shard/test_util.h"
#include "tests/quarry_process.h"

namespace quarry {
namespace {

using shard::testing::MakeDocument;
using shard::testing::MakeSearch;
using shard::testing::RandomVector;
using shard::testing::TempDir;
using testing::ShardProcess;

constexpr int kDim = 16;
constexpr int kChunks = 3;
constexpr int kWriters = 4;
constexpr int kCycles = 12;

uint64_t SeedOf(int writer, int n) { return (static_cast<uint64_t>(writer) << 32) | (n * 16); }

// What the writers know for certain: writes the shard acknowledged.
struct Ledger {
  std::mutex mu;
  std::map<std::string, uint64_t> present;  // document → seed of its acknowledged version
  std::set<std::string> deleted;            // acknowledged deletes
  std::set<std::string> uncertain;          // a write in flight when the shard died
};

void WriteUntilKilled(ShardProcess& shard, int writer, int cycle, Ledger& ledger,
                      std::atomic<bool>& stop) {
  std::mt19937 rng(writer * 7919 + cycle);
  std::vector<std::string> mine;
  for (int n = 0; !stop; ++n) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
    if (n % 4 == 3 && !mine.empty()) {
      std::string victim = mine[rng() % mine.size()];
      {
        std::lock_guard lock(ledger.mu);
        ledger.uncertain.insert(victim);
      }
      v1::DeleteRequest request;
      request.set_tenant("acme");
      request.add_doc_ids(victim);
      v1::DeleteResponse response;
      if (!shard.stub().Delete(&context, request, &response).ok()) return;
      std::lock_guard lock(ledger.mu);
      ledger.uncertain.erase(victim);
      ledger.present.erase(victim);
      ledger.deleted.insert(victim);
      std::erase(mine, victim);
      continue;
    }
    std::string id =
        "c" + std::to_string(cycle) + "-w" + std::to_string(writer) + "-" + std::to_string(n);
    uint64_t seed = SeedOf(writer, n + cycle * 100000);
    {
      std::lock_guard lock(ledger.mu);
      ledger.uncertain.insert(id);
    }
    v1::UpsertRequest request;
    *request.add_documents() = MakeDocument("acme", id, kChunks, kDim, seed);
    v1::UpsertResponse response;
    if (!shard.stub().Upsert(&context, request, &response).ok()) return;
    std::lock_guard lock(ledger.mu);
    ledger.uncertain.erase(id);
    ledger.present[id] = seed;
    mine.push_back(id);
  }
}

void Verify(ShardProcess& shard, Ledger& ledger) {
  std::lock_guard lock(ledger.mu);
  for (const auto& [id, seed] : ledger.present) {
    if (ledger.uncertain.contains(id)) continue;
    v1::GetChunksRequest get;
    get.mutable_principal()->set_tenant("acme");
    get.add_doc_ids(id);
    v1::GetChunksResponse chunks;
    grpc::ClientContext get_context;
    ASSERT_TRUE(shard.stub().GetChunks(&get_context, get, &chunks).ok());
    ASSERT_EQ(chunks.chunks_size(), kChunks) << id << " lost chunks";

    v1::SearchResponse found;
    grpc::ClientContext search_context;
    ASSERT_TRUE(
        shard.stub()
            .Search(&search_context, MakeSearch(RandomVector(kDim, seed + 1), 1, "acme"), &found)
            .ok());
    ASSERT_EQ(found.hits_size(), 1);
    ASSERT_EQ(found.hits(0).doc_id(), id) << "acknowledged write is not searchable";
  }
  for (const std::string& id : ledger.deleted) {
    v1::GetChunksRequest get;
    get.mutable_principal()->set_tenant("acme");
    get.add_doc_ids(id);
    v1::GetChunksResponse chunks;
    grpc::ClientContext context;
    ASSERT_TRUE(shard.stub().GetChunks(&context, get, &chunks).ok());
    ASSERT_EQ(chunks.chunks_size(), 0) << id << " came back after its delete";
  }
}

TEST(ShardCrash, AcknowledgedWritesSurviveSigkillAtAnyMoment) {
  TempDir dir;
  std::vector<std::string> args = {"--data",
                                   dir.path(),
                                   "--dim",
                                   std::to_string(kDim),
                                   "--index",
                                   "Flat",
                                   "--snapshot-interval",
                                   "0.05",
                                   "--snapshot-after-writes",
                                   "50",
                                   "--log-level",
                                   "warn"};
  Ledger ledger;
  std::mt19937 rng(2024);
  for (int cycle = 0; cycle < kCycles; ++cycle) {
    SCOPED_TRACE("cycle " + std::to_string(cycle));
    ShardProcess shard(args);
    absl::Status started = shard.Start();
    ASSERT_TRUE(started.ok()) << started;
    Verify(shard, ledger);

    std::atomic<bool> stop{false};
    std::vector<std::thread> writers;
    for (int w = 0; w < kWriters; ++w) {
      writers.emplace_back([&, w] { WriteUntilKilled(shard, w, cycle, ledger, stop); });
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100 + rng() % 400));
    shard.Kill();
    stop = true;
    for (std::thread& writer : writers) writer.join();
  }
  ShardProcess shard(args);
  ASSERT_TRUE(shard.Start().ok());
  Verify(shard, ledger);
  EXPECT_GT(ledger.present.size(), 100u);
  EXPECT_GT(ledger.deleted.size(), 20u);
  EXPECT_EQ(shard.Terminate(), 0);
}

}  // namespace
}  // namespace quarry
