// router_bench: what the router costs. One run measures, with real processes on loopback,
// closed-loop search latency (p50, p99) and QPS of
//   - a bare gRPC round trip (a health check) to a shard process: the floor,
//   - one shard searched directly,
//   - the router over that one shard,
//   - the router over three shards, and each of those shards directly,
// and prints a Markdown report with the ratios the router is held to: it adds no more than one
// echo round trip at p50, and its fan-out keeps p99 within 2x of the slowest shard's p99.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <cstdio>
#include <fstream>
#include <functional>
#include <iostream>
#include <random>
#include <sstream>
#include <thread>

#include "absl/strings/str_format.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "tests/test_cluster.h"

namespace quarry::bench {
namespace {

using Clock = std::chrono::steady_clock;
constexpr int kDim = 128;

struct Flags {
  int vectors = 100000;
  double seconds = 5;
  int concurrency = 1;
  int k = 10;
  std::string spec = "IVF256,Flat";
  std::string out;
};

struct Measurement {
  std::string name;
  double p50_ms = 0;
  double p99_ms = 0;
  double qps = 0;
  size_t calls = 0;
  size_t errors = 0;
};

std::vector<float> UnitVector(std::mt19937_64& rng) {
  std::normal_distribution<float> normal;
  std::vector<float> v(kDim);
  double norm = 0;
  for (float& x : v) {
    x = normal(rng);
    norm += x * x;
  }
  for (float& x : v) x /= std::sqrt(norm);
  return v;
}

// Runs `call` from `concurrency` threads for `seconds` (after a short warm-up) and collects
// the latency of every call.
Measurement Measure(const std::string& name, const Flags& flags,
                    const std::function<bool(int thread, uint64_t n)>& call) {
  for (int i = 0; i < 50; ++i) call(0, i);
  std::vector<std::vector<double>> latencies(flags.concurrency);
  std::atomic<size_t> errors{0};
  const auto end = Clock::now() + std::chrono::duration<double>(flags.seconds);
  std::vector<std::thread> threads;
  for (int t = 0; t < flags.concurrency; ++t) {
    threads.emplace_back([&, t] {
      for (uint64_t n = 0; Clock::now() < end; ++n) {
        auto start = Clock::now();
        if (!call(t, n)) ++errors;
        latencies[t].push_back(
            std::chrono::duration<double, std::milli>(Clock::now() - start).count());
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  std::vector<double> all;
  for (const auto& part : latencies) all.insert(all.end(), part.begin(), part.end());
  std::sort(all.begin(), all.end());
  Measurement m;
  m.name = name;
  m.calls = all.size();
  m.errors = errors;
  if (!all.empty()) {
    m.p50_ms = all[all.size() / 2];
    m.p99_ms = all[std::min(all.size() - 1, all.size() * 99 / 100)];
    m.qps = all.size() / flags.seconds;
  }
  std::fprintf(stderr, "%-32s p50 %.3f ms  p99 %.3f ms  %.0f QPS\n", name.c_str(), m.p50_ms,
               m.p99_ms, m.qps);
  return m;
}

// Ingests `n` vectors through the router in requests of 256 one-chunk documents.
bool Ingest(testing::QuarryProcess& router, int n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  for (int first = 0; first < n; first += 256) {
    v1::IngestRequest request;
    for (int i = first; i < std::min(n, first + 256); ++i) {
      v1::DocumentChunks* doc = request.add_documents();
      doc->mutable_document()->set_tenant("bench");
      doc->mutable_document()->set_id("doc" + std::to_string(i));
      v1::Chunk* chunk = doc->add_chunks();
      std::vector<float> v = UnitVector(rng);
      chunk->mutable_vector()->Assign(v.begin(), v.end());
    }
    grpc::ClientContext context;
    v1::IngestResponse response;
    grpc::Status status = router.router().Ingest(&context, request, &response);
    if (!status.ok()) {
      std::fprintf(stderr, "ingest failed: %s\n", status.error_message().c_str());
      return false;
    }
  }
  return true;
}

// Waits until every replica's buffered vectors are in its trained index.
void WaitIndexed(testing::ShardProcess& shard) {
  while (true) {
    grpc::ClientContext context;
    v1::StatsResponse stats;
    if (shard.stub().Stats(&context, {}, &stats).ok() && stats.vectors_buffered() == 0 &&
        stats.trained()) {
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

std::string Row(const Measurement& m) {
  return absl::StrFormat("| %s | %.3f | %.3f | %.0f | %d |\n", m.name, m.p50_ms, m.p99_ms, m.qps,
                         m.errors);
}

int Run(const Flags& flags) {
  std::vector<std::vector<float>> queries;
  std::mt19937_64 rng(99);
  for (int i = 0; i < 1000; ++i) queries.push_back(UnitVector(rng));
  std::vector<std::string> router_args = {"--log-level", "warn"};

  std::fprintf(stderr, "starting a 1-shard and a 3-shard cluster, %d vectors each\n",
               flags.vectors);
  testing::TestCluster one(1, 1, kDim, flags.spec);
  testing::TestCluster three(3, 1, kDim, flags.spec);
  absl::Status started = one.Start(router_args);
  if (started.ok()) started = three.Start(router_args);
  if (!started.ok()) {
    std::fprintf(stderr, "%s\n", std::string(started.message()).c_str());
    return 1;
  }
  if (!Ingest(one.router(), flags.vectors, 1) || !Ingest(three.router(), flags.vectors, 1)) {
    return 1;
  }
  WaitIndexed(one.replica(0, 0));
  for (int s = 0; s < 3; ++s) WaitIndexed(three.replica(s, 0));

  auto shard_search = [&](testing::ShardProcess& shard) {
    return [&, shard = &shard](int, uint64_t n) {
      v1::SearchRequest request;
      const auto& q = queries[n % queries.size()];
      request.mutable_vector()->Assign(q.begin(), q.end());
      request.set_k(flags.k);
      request.mutable_principal()->set_tenant("bench");
      grpc::ClientContext context;
      v1::SearchResponse response;
      return shard->stub().Search(&context, request, &response).ok();
    };
  };
  auto router_search = [&](testing::QuarryProcess& router) {
    return [&, router = &router](int, uint64_t n) {
      v1::RouterSearchRequest request;
      const auto& q = queries[n % queries.size()];
      request.mutable_vector()->Assign(q.begin(), q.end());
      request.set_k(flags.k);
      request.mutable_principal()->set_tenant("bench");
      grpc::ClientContext context;
      v1::RouterSearchResponse response;
      return router->router().Search(&context, request, &response).ok() && !response.partial();
    };
  };
  auto channel =
      grpc::CreateChannel(one.replica(0, 0).address(), grpc::InsecureChannelCredentials());
  auto health = grpc::health::v1::Health::NewStub(channel);
  auto echo = [&](int, uint64_t) {
    grpc::ClientContext context;
    grpc::health::v1::HealthCheckRequest request;
    grpc::health::v1::HealthCheckResponse response;
    return health->Check(&context, request, &response).ok();
  };

  std::vector<Measurement> rows;
  rows.push_back(Measure("gRPC echo (health check)", flags, echo));
  rows.push_back(Measure("1 shard, direct", flags, shard_search(one.replica(0, 0))));
  rows.push_back(Measure("router over 1 shard", flags, router_search(one.router())));
  std::vector<Measurement> parts;
  for (int s = 0; s < 3; ++s) {
    parts.push_back(Measure(absl::StrFormat("shard %d of 3, direct", s), flags,
                            shard_search(three.replica(s, 0))));
  }
  rows.insert(rows.end(), parts.begin(), parts.end());
  rows.push_back(Measure("router over 3 shards", flags, router_search(three.router())));

  const Measurement& echo_row = rows[0];
  const Measurement& direct = rows[1];
  const Measurement& router_one = rows[2];
  const Measurement& router_three = rows.back();
  double slowest_p99 = 0;
  for (const Measurement& part : parts) slowest_p99 = std::max(slowest_p99, part.p99_ms);

  std::ostringstream report;
  report << "## Router overhead\n\n"
         << absl::StrFormat(
                "%d vectors of %d dimensions, index `%s`, k = %d, %d client "
                "thread(s), %.0f s per row; every process on this machine.\n\n",
                flags.vectors, kDim, flags.spec, flags.k, flags.concurrency, flags.seconds)
         << "| path | p50 ms | p99 ms | QPS | errors |\n| --- | --- | --- | --- | --- |\n";
  for (const Measurement& row : rows) report << Row(row);
  const double added = router_one.p50_ms - direct.p50_ms;
  report << "\n"
         << absl::StrFormat(
                "- The router adds %.3f ms at p50 over one shard, %.2fx a gRPC echo "
                "round trip (%.3f ms); goal: at most 1x.\n",
                added, added / echo_row.p50_ms, echo_row.p50_ms)
         << absl::StrFormat(
                "- Over three shards its p99 is %.3f ms, %.2fx the slowest shard's "
                "p99 (%.3f ms); goal: at most 2x.\n",
                router_three.p99_ms, router_three.p99_ms / slowest_p99, slowest_p99);
  std::cout << report.str();
  if (!flags.out.empty()) std::ofstream(flags.out) << report.str();
  return 0;
}

}  // namespace
}  // namespace quarry::bench

int main(int argc, char** argv) {
  quarry::bench::Flags flags;
  CLI::App app{"Measures the router against a shard searched directly and a gRPC echo"};
  app.add_option("--vectors", flags.vectors, "Vectors ingested into each cluster")
      ->capture_default_str();
  app.add_option("--seconds", flags.seconds, "Length of each measurement")->capture_default_str();
  app.add_option("--concurrency", flags.concurrency, "Client threads")->capture_default_str();
  app.add_option("--k", flags.k, "Hits per search")->capture_default_str();
  app.add_option("--index", flags.spec, "Index spec of every shard")->capture_default_str();
  app.add_option("--out", flags.out, "Also write the report to this file");
  CLI11_PARSE(app, argc, argv);
  if (getenv("QUARRY_BIN") == nullptr) setenv("QUARRY_BIN", QUARRY_DEFAULT_BINARY, 1);
  return quarry::bench::Run(flags);
}
