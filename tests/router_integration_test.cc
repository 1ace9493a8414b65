// The router over real shard processes on loopback: the exact merge, stable placement,
// partial results when a shard dies, replicas, hedging around a slow replica, deadlines.
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <thread>

#include "router/placement.h"
#include "shard/chunk_id.h"
#include "tests/delay_proxy.h"
#include "tests/test_cluster.h"

namespace quarry {
namespace {

using shard::testing::MakeDocument;
using shard::testing::RandomVector;
using testing::DelayProxy;
using testing::QuarryProcess;
using testing::TestCluster;

constexpr int kDim = 16;
using Clock = std::chrono::steady_clock;

v1::IngestRequest Documents(int first, int count, int chunks, uint64_t seed_base = 0) {
  v1::IngestRequest request;
  for (int i = first; i < first + count; ++i) {
    *request.add_documents() =
        MakeDocument("acme", "doc" + std::to_string(i), chunks, kDim, seed_base + i * 100);
  }
  return request;
}

grpc::Status Ingest(QuarryProcess& router, const v1::IngestRequest& request,
                    v1::IngestResponse* response = nullptr) {
  v1::IngestResponse ignored;
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  return router.router().Ingest(&context, request, response ? response : &ignored);
}

v1::RouterSearchRequest Query(uint64_t seed, int k) {
  v1::RouterSearchRequest request;
  std::vector<float> vector = RandomVector(kDim, seed);
  request.mutable_vector()->Assign(vector.begin(), vector.end());
  request.set_k(k);
  request.mutable_principal()->set_tenant("acme");
  return request;
}

grpc::Status Search(QuarryProcess& router, const v1::RouterSearchRequest& request,
                    v1::RouterSearchResponse* response,
                    std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + timeout);
  return router.router().Search(&context, request, response);
}

std::vector<float> Normalized(std::vector<float> v) {
  double norm = 0;
  for (float x : v) norm += double(x) * x;
  for (float& x : v) x = static_cast<float>(x / std::sqrt(norm));
  return v;
}

TEST(Router, MergedTopKEqualsBruteForceOverAllData) {
  TestCluster cluster(3, 1, kDim);
  ASSERT_TRUE(cluster.Start().ok());
  v1::IngestResponse ingested;
  ASSERT_TRUE(Ingest(cluster.router(), Documents(0, 300, 2), &ingested).ok());
  ASSERT_EQ(ingested.documents_size(), 300);
  std::vector<int> per_shard(3);
  for (const v1::DocumentWrite& write : ingested.documents()) {
    EXPECT_TRUE(write.ok());
    EXPECT_EQ(write.shard(), router::PlaceDocument("acme", write.doc_id(), 3));
    ++per_shard[write.shard()];
  }
  for (int count : per_shard) EXPECT_GT(count, 60);

  // Every chunk's normalised vector, as the shards hold them.
  struct Stored {
    uint64_t id;
    std::vector<float> vector;
  };
  std::vector<Stored> all;
  for (int i = 0; i < 300; ++i) {
    for (int c = 0; c < 2; ++c) {
      all.push_back({shard::ChunkIdFor("acme", "doc" + std::to_string(i), c),
                     Normalized(RandomVector(kDim, i * 100 + c))});
    }
  }
  int compared = 0;
  for (uint64_t q = 0; q < 25; ++q) {
    std::vector<float> query = Normalized(RandomVector(kDim, 999000 + q));
    std::vector<std::pair<double, uint64_t>> scored;
    for (const Stored& s : all) {
      double dot = 0;
      for (int d = 0; d < kDim; ++d) dot += double(query[d]) * s.vector[d];
      scored.emplace_back(-dot, s.id);
    }
    std::sort(scored.begin(), scored.end());
    if (scored[9].first - scored[10].first > -1e-5) continue;  // a near tie at the cut
    v1::RouterSearchResponse response;
    ASSERT_TRUE(Search(cluster.router(), Query(999000 + q, 10), &response).ok());
    EXPECT_FALSE(response.partial());
    EXPECT_EQ(response.coverage().shards_ok(), 3u);
    ASSERT_EQ(response.hits_size(), 10);
    for (int i = 0; i < 10; ++i) {
      EXPECT_EQ(response.hits(i).chunk_id(), scored[i].second) << "query " << q << " rank " << i;
      EXPECT_NEAR(response.hits(i).score(), -scored[i].first, 1e-4);
    }
    ++compared;
  }
  EXPECT_GE(compared, 20);
}

TEST(Router, PlacementIsStableAcrossRouterRestarts) {
  TestCluster cluster(3, 1, kDim);
  ASSERT_TRUE(cluster.Start().ok());
  ASSERT_TRUE(Ingest(cluster.router(), Documents(0, 90, 1)).ok());
  auto chunk_counts = [&] {
    std::vector<uint64_t> counts;
    for (int s = 0; s < 3; ++s) {
      grpc::ClientContext context;
      v1::StatsResponse stats;
      EXPECT_TRUE(cluster.replica(s, 0).stub().Stats(&context, {}, &stats).ok());
      counts.push_back(stats.chunks());
    }
    return counts;
  };
  std::vector<uint64_t> before = chunk_counts();

  std::vector<std::string> addresses;
  for (int s = 0; s < 3; ++s) addresses.push_back(cluster.replica(s, 0).address());
  ASSERT_TRUE(cluster.StartRouter(addresses).ok());
  // The same documents again, with other vectors: each replaces itself on its own shard.
  ASSERT_TRUE(Ingest(cluster.router(), Documents(0, 90, 1, /*seed_base=*/77)).ok());
  EXPECT_EQ(chunk_counts(), before);
}

TEST(Router, AKilledShardGivesPartialResultsWithinTheDeadline) {
  TestCluster cluster(3, 1, kDim);
  ASSERT_TRUE(cluster.Start().ok());
  ASSERT_TRUE(Ingest(cluster.router(), Documents(0, 60, 2)).ok());

  std::atomic<bool> killed{false};
  std::atomic<bool> stop{false};
  std::atomic<int> late{0}, failed{0}, partial_after_kill{0}, after_kill{0};
  constexpr auto kDeadline = std::chrono::milliseconds(500);
  auto load = [&](uint64_t seed) {
    for (uint64_t q = 0; !stop; ++q) {
      const bool was_killed = killed;
      v1::RouterSearchResponse response;
      auto start = Clock::now();
      grpc::Status status = Search(cluster.router(), Query(seed + q, 5), &response, kDeadline);
      if (Clock::now() - start > kDeadline + std::chrono::milliseconds(100)) ++late;
      if (!status.ok()) {
        ++failed;
        continue;
      }
      if (was_killed) {
        ++after_kill;
        if (response.partial() && response.coverage().shards_ok() == 2 &&
            response.coverage().missing_shards_size() == 1 &&
            response.coverage().missing_shards(0) == 1) {
          ++partial_after_kill;
        }
      }
    }
  };
  std::thread a(load, 1000), b(load, 2000);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  cluster.replica(1, 0).Kill();
  killed = true;
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  stop = true;
  a.join();
  b.join();
  EXPECT_EQ(late.load(), 0);
  EXPECT_EQ(failed.load(), 0);
  EXPECT_GT(after_kill.load(), 10);
  EXPECT_EQ(partial_after_kill.load(), after_kill.load());

  v1::RouterSearchRequest full = Query(5, 5);
  full.set_require_full_coverage(true);
  v1::RouterSearchResponse response;
  grpc::Status status = Search(cluster.router(), full, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_NE(status.error_message().find("shard 1"), std::string::npos) << status.error_message();
}

TEST(Router, ASecondReplicaKeepsFullCoverageAndCatchesUpOnMissedWrites) {
  TestCluster cluster(3, 2, kDim);
  ASSERT_TRUE(cluster.Start().ok());
  ASSERT_TRUE(Ingest(cluster.router(), Documents(0, 60, 1)).ok());
  cluster.replica(0, 1).Kill();
  for (uint64_t q = 0; q < 30; ++q) {
    v1::RouterSearchResponse response;
    ASSERT_TRUE(Search(cluster.router(), Query(q, 5), &response).ok());
    EXPECT_FALSE(response.partial());
    EXPECT_EQ(response.coverage().shards_ok(), 3u);
  }

  // A majority of two is two: with one replica down a write fails, unless the caller asks
  // for one acknowledgement. Then the dead replica owes the write.
  v1::IngestRequest more = Documents(100, 30, 1);
  EXPECT_EQ(Ingest(cluster.router(), more).error_code(), grpc::StatusCode::UNAVAILABLE);
  more.set_write_quorum(1);
  v1::IngestResponse response;
  ASSERT_TRUE(Ingest(cluster.router(), more, &response).ok());

  // Back up, the replica is sent what it missed and serves again.
  ASSERT_TRUE(cluster.replica(0, 1).Start().ok());
  auto deadline = Clock::now() + std::chrono::seconds(20);
  bool caught_up = false;
  while (!caught_up && Clock::now() < deadline) {
    grpc::ClientContext context;
    v1::GetStatusResponse status;
    ASSERT_TRUE(cluster.router().router().GetStatus(&context, {}, &status).ok());
    const v1::ReplicaStatus& replica = status.shards(0).replicas(1);
    caught_up = replica.healthy() && !replica.stale() && replica.pending_writes() == 0;
    if (!caught_up) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_TRUE(caught_up);
  v1::StatsResponse first, second;
  grpc::ClientContext first_context, second_context;
  ASSERT_TRUE(cluster.replica(0, 0).stub().Stats(&first_context, {}, &first).ok());
  ASSERT_TRUE(cluster.replica(0, 1).stub().Stats(&second_context, {}, &second).ok());
  EXPECT_EQ(second.chunks(), first.chunks());
  EXPECT_EQ(second.documents(), first.documents());
}

TEST(Router, ASlowReplicaIsHedgedAround) {
  constexpr auto kDelay = std::chrono::milliseconds(200);
  TestCluster cluster(1, 2, kDim);
  ASSERT_TRUE(cluster.Start().ok());
  ASSERT_TRUE(Ingest(cluster.router(), Documents(0, 50, 1)).ok());

  // Route replica 1 through a proxy that holds every reply back.
  const std::string fast = cluster.replica(0, 0).address();
  const int slow_port = std::stoi(cluster.replica(0, 1).address().substr(10));
  DelayProxy proxy(slow_port, kDelay);
  ASSERT_TRUE(cluster.StartRouter({fast, proxy.address()}).ok());

  std::vector<double> latencies;
  for (uint64_t q = 0; q < 200; ++q) {
    v1::RouterSearchResponse response;
    auto start = Clock::now();
    ASSERT_TRUE(Search(cluster.router(), Query(q, 5), &response).ok());
    latencies.push_back(std::chrono::duration<double, std::milli>(Clock::now() - start).count());
    EXPECT_FALSE(response.partial());
  }
  std::sort(latencies.begin(), latencies.end());
  const double p99 = latencies[latencies.size() * 99 / 100];
  EXPECT_LT(p99, kDelay.count() / 2.0) << "p50 " << latencies[100];
}

// Starts `cluster` (two shards), writes 20 documents, then stops both shard processes, so that
// every call to them hangs until they are resumed.
void StartWithStoppedShards(TestCluster& cluster) {
  ASSERT_TRUE(cluster.Start().ok());
  ASSERT_TRUE(Ingest(cluster.router(), Documents(0, 20, 1)).ok());
  cluster.replica(0, 0).Pause();
  cluster.replica(1, 0).Pause();
  std::this_thread::sleep_for(std::chrono::milliseconds(50));  // until every thread stopped
}

// The shard calls the router has running, as its GetStatus reports them.
uint64_t OutstandingShardCalls(QuarryProcess& router) {
  grpc::ClientContext context;
  v1::GetStatusResponse status;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  EXPECT_TRUE(router.router().GetStatus(&context, {}, &status).ok());
  uint64_t calls = 0;
  for (const v1::ShardStatus& shard : status.shards()) {
    for (const v1::ReplicaStatus& replica : shard.replicas()) calls += replica.outstanding();
  }
  return calls;
}

TEST(Router, AnExhaustedDeadlineIsDeadlineExceededPromptlyWithNoCallLeft) {
  TestCluster cluster(2, 1, kDim);
  ASSERT_NO_FATAL_FAILURE(StartWithStoppedShards(cluster));
  v1::RouterSearchResponse response;
  auto start = Clock::now();
  grpc::Status status =
      Search(cluster.router(), Query(1, 5), &response, std::chrono::milliseconds(300));
  auto elapsed = Clock::now() - start;
  EXPECT_EQ(status.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED) << status.error_message();
  EXPECT_LT(elapsed, std::chrono::milliseconds(600));

  EXPECT_EQ(OutstandingShardCalls(cluster.router()), 0u);
  cluster.replica(0, 0).Resume();
  cluster.replica(1, 0).Resume();

  EXPECT_EQ(
      Search(cluster.router(), Query(1, 5), &response, std::chrono::milliseconds(4)).error_code(),
      grpc::StatusCode::DEADLINE_EXCEEDED);
}

TEST(Router, ACallerThatGoesAwayLeavesNoShardCallRunning) {
  TestCluster cluster(2, 1, kDim);
  ASSERT_NO_FATAL_FAILURE(StartWithStoppedShards(cluster));
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
  v1::RouterSearchResponse response;
  grpc::Status status;
  std::thread caller(
      [&] { status = cluster.router().router().Search(&context, Query(1, 5), &response); });
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  context.TryCancel();
  caller.join();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::CANCELLED) << status.error_message();

  // The router cancels its calls to the (still stopped) shards rather than waiting out the
  // caller's minute.
  const auto give_up = Clock::now() + std::chrono::seconds(5);
  while (OutstandingShardCalls(cluster.router()) > 0 && Clock::now() < give_up) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_EQ(OutstandingShardCalls(cluster.router()), 0u);
  cluster.replica(0, 0).Resume();
  cluster.replica(1, 0).Resume();
}

TEST(Router, EmbedsTextWithTheHashEmbedder) {
  TestCluster cluster(2, 1, kDim);
  ASSERT_TRUE(cluster.Start().ok());
  v1::IngestRequest request;
  const char* passages[] = {"VACUUM FULL takes an exclusive lock on the table",
                            "CREATE INDEX builds a partial index over some rows",
                            "pg_dump writes a consistent backup of a database"};
  for (int i = 0; i < 3; ++i) {
    v1::DocumentChunks* doc = request.add_documents();
    doc->mutable_document()->set_tenant("acme");
    doc->mutable_document()->set_id("page" + std::to_string(i));
    v1::Chunk* chunk = doc->add_chunks();
    chunk->set_text(passages[i]);
  }
  ASSERT_TRUE(Ingest(cluster.router(), request).ok());
  v1::RouterSearchRequest query;
  query.set_text("which lock does vacuum full take");
  query.set_k(1);
  query.set_include_text(true);
  query.mutable_principal()->set_tenant("acme");
  v1::RouterSearchResponse response;
  ASSERT_TRUE(Search(cluster.router(), query, &response).ok());
  ASSERT_EQ(response.hits_size(), 1);
  EXPECT_EQ(response.hits(0).doc_id(), "page0");
  EXPECT_EQ(response.hits(0).text(), passages[0]);
}

TEST(Router, RejectsBadInputLikeTheShardsDo) {
  TestCluster cluster(2, 1, kDim);
  ASSERT_TRUE(cluster.Start({"--embedder", "none"}).ok());
  auto expect_invalid = [&](const v1::RouterSearchRequest& request, const std::string& words) {
    v1::RouterSearchResponse response;
    grpc::Status status = Search(cluster.router(), request, &response);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << status.error_message();
    EXPECT_NE(status.error_message().find(words), std::string::npos) << status.error_message();
  };
  v1::RouterSearchRequest neither = Query(1, 5);
  neither.clear_vector();
  expect_invalid(neither, "neither a vector nor text");
  v1::RouterSearchRequest text = Query(1, 5);
  text.clear_vector();
  text.set_text("how do I vacuum");
  expect_invalid(text, "embedder");
  v1::RouterSearchRequest wrong_dim = Query(1, 5);
  wrong_dim.add_vector(1.0f);
  expect_invalid(wrong_dim, "dimension is 16");
  v1::RouterSearchRequest bad_tenant = Query(1, 5);
  bad_tenant.mutable_principal()->set_tenant("acme corp");
  expect_invalid(bad_tenant, "principal.tenant");
  v1::RouterSearchRequest big_k = Query(1, 5);
  big_k.set_k(5000);
  expect_invalid(big_k, "k is 5000");

  v1::IngestRequest wrong = Documents(0, 1, 1);
  wrong.mutable_documents(0)->mutable_chunks(0)->add_vector(1.0f);
  grpc::Status status = Ingest(cluster.router(), wrong);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(status.error_message().find("documents[0].chunks[0].vector"), std::string::npos);
}

TEST(Router, SighupReloadsReplicasButRefusesADifferentShardCount) {
  TestCluster cluster(1, 2, kDim);
  ASSERT_TRUE(cluster.Start().ok());
  auto replica_count = [&] {
    grpc::ClientContext context;
    v1::GetStatusResponse status;
    EXPECT_TRUE(cluster.router().router().GetStatus(&context, {}, &status).ok());
    return std::make_pair(status.shards_size(), status.shards(0).replicas_size());
  };
  EXPECT_EQ(replica_count(), std::make_pair(1, 2));

  std::ofstream(cluster.topology_path())
      << "shards:\n  - replicas: [" << cluster.replica(0, 0).address() << "]\n";
  cluster.router().Signal(SIGHUP);
  auto deadline = Clock::now() + std::chrono::seconds(5);
  while (replica_count().second != 1 && Clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_EQ(replica_count(), std::make_pair(1, 1));

  std::ofstream(cluster.topology_path())
      << "shards:\n  - replicas: [" << cluster.replica(0, 0).address() << "]\n"
      << "  - replicas: [" << cluster.replica(0, 1).address() << "]\n";
  cluster.router().Signal(SIGHUP);
  deadline = Clock::now() + std::chrono::seconds(5);
  while (cluster.router().Log().find("kept the old topology") == std::string::npos &&
         Clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_NE(cluster.router().Log().find("changing the number of shards"), std::string::npos);
  EXPECT_EQ(replica_count(), std::make_pair(1, 1));
}

TEST(Router, ABadTopologyStopsStartUpNamingTheLine) {
  shard::testing::TempDir dir;
  const std::string path = dir.path() + "/topology.yaml";
  std::ofstream(path) << "shards:\n  - replicas: [127.0.0.1:7310]\n  - replicas: [nowhere]\n";
  QuarryProcess router("router", {"--topology", path});
  absl::Status started = router.Start();
  ASSERT_FALSE(started.ok());
  EXPECT_NE(started.message().find("line 3"), absl::string_view::npos) << started;
}

}  // namespace
}  // namespace quarry
