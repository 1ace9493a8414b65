// Graceful drain under load, with real processes: SIGTERM turns a service NOT_SERVING and
// refuses new calls, but every call that had started before it finishes normally, and the
// process exits 0. Searches are made slow (a proxy holds the shard's replies back) so that many
// are in flight inside the router when the signal arrives.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "shard/test_util.h"
#include "tests/delay_proxy.h"
#include "tests/quarry_process.h"
#include "tests/test_cluster.h"

namespace quarry {
namespace {

using shard::testing::MakeDocument;
using shard::testing::RandomVector;
using testing::DelayProxy;
using testing::QuarryProcess;
using testing::TestCluster;
using Clock = std::chrono::steady_clock;

constexpr int kDim = 16;

struct Call {
  Clock::time_point start;
  Clock::time_point end;
  grpc::StatusCode code;
  std::string message;
};

// Calls `call` from `threads` threads until `stop`, recording each call.
template <typename CallFn>
std::vector<Call> RunLoad(int threads, std::atomic<bool>& stop, CallFn call) {
  std::mutex mu;
  std::vector<Call> calls;
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      for (uint64_t i = 0; !stop; ++i) {
        Call record;
        record.start = Clock::now();
        const grpc::Status status = call(t, i);
        record.end = Clock::now();
        record.code = status.error_code();
        record.message = status.error_message();
        std::lock_guard lock(mu);
        calls.push_back(std::move(record));
        // A refused call comes back at once; do not spin on a server that is going away.
        if (!status.ok()) std::this_thread::sleep_for(std::chrono::milliseconds(5));
      }
    });
  }
  for (std::thread& worker : workers) worker.join();
  return calls;
}

// Every call that started at least `margin` before `signal` must have succeeded; returns how
// many of them were still running when the signal came.
int ExpectEveryEarlierCallSucceeded(const std::vector<Call>& calls, Clock::time_point signal,
                                    std::chrono::milliseconds margin) {
  int in_flight = 0;
  for (const Call& call : calls) {
    if (call.start > signal - margin) continue;
    EXPECT_EQ(call.code, grpc::StatusCode::OK)
        << call.message << " (started "
        << std::chrono::duration_cast<std::chrono::milliseconds>(signal - call.start).count()
        << " ms before SIGTERM)";
    if (call.end > signal) ++in_flight;
  }
  return in_flight;
}

TEST(Drain, SigtermOnTheRouterFinishesTheSearchesInFlight) {
  constexpr auto kShardDelay = std::chrono::milliseconds(150);
  TestCluster cluster(1, 1, kDim);
  ASSERT_TRUE(cluster.Start().ok());
  {
    v1::IngestRequest request;
    for (int i = 0; i < 20; ++i) {
      *request.add_documents() = MakeDocument("acme", absl::StrCat("doc", i), 2, kDim, i);
    }
    v1::IngestResponse response;
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    ASSERT_TRUE(cluster.router().router().Ingest(&context, request, &response).ok());
  }

  // The router's only way to the shard holds every reply back, so searches take a while.
  const int shard_port = std::stoi(cluster.replica(0, 0).address().substr(10));
  DelayProxy proxy(shard_port, kShardDelay);
  ASSERT_TRUE(cluster.StartRouter({proxy.address()}, {"--drain-seconds", "10"}).ok());
  QuarryProcess& router = cluster.router();

  std::atomic<bool> stop{false};
  Clock::time_point signal;
  std::thread killer([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));
    signal = Clock::now();
    router.Signal(SIGTERM);
    std::this_thread::sleep_for(std::chrono::milliseconds(1000));
    stop = true;
  });
  std::vector<Call> calls = RunLoad(8, stop, [&](int t, uint64_t i) {
    v1::RouterSearchRequest request;
    std::vector<float> vector = RandomVector(kDim, t * 100000 + i);
    request.mutable_vector()->Assign(vector.begin(), vector.end());
    request.set_k(5);
    request.mutable_principal()->set_tenant("acme");
    v1::RouterSearchResponse response;
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    return router.router().Search(&context, request, &response);
  });
  killer.join();

  // Calls sent just before the signal may not have reached the router yet; those that started
  // well before must all have been answered, however long they still had to run.
  const int in_flight =
      ExpectEveryEarlierCallSucceeded(calls, signal, std::chrono::milliseconds(30));
  EXPECT_GE(in_flight, 1) << "no search was running when SIGTERM came";
  // Later calls were refused promptly, never left hanging.
  for (const Call& call : calls) {
    EXPECT_LT(call.end - call.start, std::chrono::seconds(5));
  }
  EXPECT_EQ(router.WaitForExit(std::chrono::seconds(30)), 0) << router.Log();
}

TEST(Drain, SigtermOnAShardAcknowledgesEveryWriteInFlightAndKeepsThem) {
  shard::testing::TempDir dir;
  const std::vector<std::string> args = {
      "--data", dir.path() + "/shard", "--dim", std::to_string(kDim), "--drain-seconds", "10"};
  testing::ShardProcess shard(args);
  ASSERT_TRUE(shard.Start().ok()) << shard.Log();

  std::atomic<bool> stop{false};
  Clock::time_point signal;
  std::thread killer([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(1000));
    signal = Clock::now();
    shard.Signal(SIGTERM);
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    stop = true;
  });
  std::mutex mu;
  std::vector<std::string> acknowledged;
  std::vector<Call> calls = RunLoad(4, stop, [&](int t, uint64_t i) {
    const std::string id = absl::StrCat("t", t, "-", i);
    v1::UpsertRequest request;
    *request.add_documents() = MakeDocument("acme", id, 8, kDim, t * 100000 + i);
    v1::UpsertResponse response;
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    grpc::Status status = shard.stub().Upsert(&context, request, &response);
    if (status.ok()) {
      std::lock_guard lock(mu);
      acknowledged.push_back(id);
    }
    return status;
  });
  killer.join();
  ExpectEveryEarlierCallSucceeded(calls, signal, std::chrono::milliseconds(30));
  EXPECT_EQ(shard.WaitForExit(std::chrono::seconds(30)), 0) << shard.Log();
  ASSERT_GT(acknowledged.size(), 10u);

  // Every acknowledged write is there after a restart.
  ASSERT_TRUE(shard.Start().ok()) << shard.Log();
  for (size_t begin = 0; begin < acknowledged.size(); begin += 500) {
    v1::DocumentVersionsRequest request;
    request.set_tenant("acme");
    for (size_t i = begin; i < std::min(acknowledged.size(), begin + 500); ++i) {
      request.add_doc_ids(acknowledged[i]);
    }
    v1::DocumentVersionsResponse response;
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    ASSERT_TRUE(shard.stub().GetDocumentVersions(&context, request, &response).ok());
    EXPECT_EQ(response.documents_size(), request.doc_ids_size());
  }
  EXPECT_EQ(shard.Terminate(), 0);
}

}  // namespace
}  // namespace quarry
