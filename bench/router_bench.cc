// router_bench: what the router costs. One run measures, with real processes on loopback,
// closed-loop search latency (p50, p99) and QPS of
//   - a bare gRPC round trip (a health check) to a shard process,
//   - one shard searched directly,
//   - a bare forwarding hop (forwarding_proxy.cc) over that shard, and the router over it,
//   - each of three shards directly, the bare forwarding hop over them, and the router,
// and prints a Markdown report with the ratios the router is held to: it adds no more than one
// echo round trip at p50, and its fan-out keeps p99 within 2x of the slowest shard's p99. The
// bare forwarding hop shows how much of that any gRPC hop costs on the machine.
//
// Every path is measured in turns, row after row, so that the machine's slow spells spread
// over all of them.
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

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
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
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
  int rounds = 5;
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

using Call = std::function<bool(int thread, uint64_t n)>;

// A path measured: its calls, and the latency of every call so far.
struct Row {
  Row(std::string name, Call call) : name(std::move(name)), call(std::move(call)) {}

  std::string name;
  Call call;
  std::vector<double> latencies_ms;
  size_t errors = 0;
  double seconds = 0;
};

// Runs `row.call` from `concurrency` threads for `seconds` and adds the latency of every call.
void MeasureFor(Row& row, int concurrency, double seconds) {
  std::vector<std::vector<double>> latencies(concurrency);
  std::atomic<size_t> errors{0};
  const auto end = Clock::now() + std::chrono::duration<double>(seconds);
  std::vector<std::thread> threads;
  for (int t = 0; t < concurrency; ++t) {
    threads.emplace_back([&, t] {
      for (uint64_t n = 0; Clock::now() < end; ++n) {
        auto start = Clock::now();
        if (!row.call(t, n)) ++errors;
        latencies[t].push_back(
            std::chrono::duration<double, std::milli>(Clock::now() - start).count());
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  for (const auto& part : latencies) {
    row.latencies_ms.insert(row.latencies_ms.end(), part.begin(), part.end());
  }
  row.errors += errors;
  row.seconds += seconds;
}

// Measures every row for `flags.seconds` in all, in `flags.rounds` turns taken one row after
// another, so that a slow spell of the machine falls on every row alike rather than on one.
std::vector<Measurement> MeasureInTurns(std::vector<Row>& rows, const Flags& flags) {
  for (Row& row : rows) {
    for (int i = 0; i < 50; ++i) row.call(0, i);  // warm-up: connections, caches
  }
  for (int round = 0; round < flags.rounds; ++round) {
    for (Row& row : rows) MeasureFor(row, flags.concurrency, flags.seconds / flags.rounds);
  }
  std::vector<Measurement> measurements;
  for (Row& row : rows) {
    std::vector<double>& all = row.latencies_ms;
    std::sort(all.begin(), all.end());
    Measurement m;
    m.name = row.name;
    m.calls = all.size();
    m.errors = row.errors;
    if (!all.empty()) {
      m.p50_ms = all[all.size() / 2];
      m.p99_ms = all[std::min(all.size() - 1, all.size() * 99 / 100)];
      m.qps = all.size() / row.seconds;
    }
    std::fprintf(stderr, "%-40s p50 %.3f ms  p99 %.3f ms  %.0f QPS\n", m.name.c_str(), m.p50_ms,
                 m.p99_ms, m.qps);
    measurements.push_back(m);
  }
  return measurements;
}

// A forwarding_proxy process in front of `shards`; killed when this goes away.
class ForwardingProxyProcess {
 public:
  ~ForwardingProxyProcess() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }

  // Starts it and waits until it listens; its address is then address().
  absl::Status Start(const std::vector<std::string>& shards) {
    port_file_ = absl::StrFormat("/tmp/quarry-forwarding-proxy-%d-%d", getpid(), ++started_);
    std::vector<std::string> args = {FORWARDING_PROXY_BINARY, "--port-file", port_file_};
    for (const std::string& shard : shards) {
      args.push_back("--shard");
      args.push_back(shard);
    }
    std::vector<char*> argv;
    for (std::string& arg : args) argv.push_back(arg.data());
    argv.push_back(nullptr);
    if (posix_spawn(&pid_, argv[0], nullptr, nullptr, argv.data(), environ) != 0) {
      pid_ = 0;
      return absl::InternalError(absl::StrCat("cannot run ", args[0]));
    }
    for (int i = 0; i < 200; ++i) {
      std::ifstream in(port_file_);
      int port = 0;
      if (in >> port && port > 0) {
        std::remove(port_file_.c_str());
        channel_ = grpc::CreateChannel(absl::StrCat("127.0.0.1:", port),
                                       grpc::InsecureChannelCredentials());
        stub_ = v1::Router::NewStub(channel_);
        return absl::OkStatus();
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return absl::DeadlineExceededError(absl::StrCat(args[0], " did not start listening"));
  }

  v1::Router::Stub& router() { return *stub_; }

 private:
  static inline int started_ = 0;
  pid_t pid_ = 0;
  std::string port_file_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::Router::Stub> stub_;
};

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

std::string TableRow(const Measurement& m) {
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
  // Through the router, or through the bare forwarding hop, which serves the same method.
  auto router_search = [&](v1::Router::Stub& stub) {
    return [&, stub = &stub](int, uint64_t n) {
      v1::RouterSearchRequest request;
      const auto& q = queries[n % queries.size()];
      request.mutable_vector()->Assign(q.begin(), q.end());
      request.set_k(flags.k);
      request.mutable_principal()->set_tenant("bench");
      grpc::ClientContext context;
      v1::RouterSearchResponse response;
      return stub->Search(&context, request, &response).ok() && !response.partial();
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

  ForwardingProxyProcess proxy_one, proxy_three;
  started = proxy_one.Start({one.replica(0, 0).address()});
  if (started.ok()) {
    started = proxy_three.Start({three.replica(0, 0).address(), three.replica(1, 0).address(),
                                 three.replica(2, 0).address()});
  }
  if (!started.ok()) {
    std::fprintf(stderr, "%s\n", std::string(started.message()).c_str());
    return 1;
  }
  enum RowIndex {
    kEcho,
    kDirect,
    kProxyOne,
    kRouterOne,
    kShard0,
    kProxyThree = kShard0 + 3,
    kRouterThree
  };
  std::vector<Row> rows;
  rows.emplace_back("gRPC echo (health check)", echo);
  rows.emplace_back("1 shard, direct", shard_search(one.replica(0, 0)));
  rows.emplace_back("bare forwarding hop over 1 shard", router_search(proxy_one.router()));
  rows.emplace_back("router over 1 shard", router_search(one.router().router()));
  for (int s = 0; s < 3; ++s) {
    rows.push_back(
        {absl::StrFormat("shard %d of 3, direct", s), shard_search(three.replica(s, 0))});
  }
  rows.emplace_back("bare forwarding hop over 3 shards", router_search(proxy_three.router()));
  rows.emplace_back("router over 3 shards", router_search(three.router().router()));
  const std::vector<Measurement> measured = MeasureInTurns(rows, flags);

  const Measurement& echo_row = measured[kEcho];
  const Measurement& direct = measured[kDirect];
  const Measurement& proxy_one_row = measured[kProxyOne];
  const Measurement& router_one = measured[kRouterOne];
  const Measurement& proxy_three_row = measured[kProxyThree];
  const Measurement& router_three = measured[kRouterThree];
  double slowest_p99 = 0;
  for (int s = 0; s < 3; ++s) slowest_p99 = std::max(slowest_p99, measured[kShard0 + s].p99_ms);

  std::ostringstream report;
  report << "## Router overhead\n\n"
         << absl::StrFormat(
                "%d vectors of %d dimensions, index `%s`, k = %d, %d client thread(s), %.0f s "
                "per row in %d turns taken row after row; every process on this machine. The "
                "bare forwarding hop is `forwarding_proxy`: Router.Search on gRPC's async API, "
                "one thread, sent to every shard and answered with their hits put together, "
                "and nothing else; it is what any gRPC hop in front of the shards costs "
                "here.\n\n",
                flags.vectors, kDim, flags.spec, flags.k, flags.concurrency, flags.seconds,
                flags.rounds)
         << "| path | p50 ms | p99 ms | QPS | errors |\n| --- | --- | --- | --- | --- |\n";
  for (const Measurement& row : measured) report << TableRow(row);
  const double added = router_one.p50_ms - direct.p50_ms;
  const double floor_added = proxy_one_row.p50_ms - direct.p50_ms;
  report << "\n"
         << absl::StrFormat(
                "- The router adds %.3f ms at p50 over one shard, %.2fx a gRPC echo round trip "
                "(%.3f ms); goal: at most 1x. The bare forwarding hop adds %.3f ms (%.2fx).\n",
                added, added / echo_row.p50_ms, echo_row.p50_ms, floor_added,
                floor_added / echo_row.p50_ms)
         << absl::StrFormat(
                "- Over three shards its p99 is %.3f ms, %.2fx the slowest shard's p99 (%.3f "
                "ms); goal: at most 2x. The bare forwarding hop's p99 is %.3f ms (%.2fx).\n",
                router_three.p99_ms, router_three.p99_ms / slowest_p99, slowest_p99,
                proxy_three_row.p99_ms, proxy_three_row.p99_ms / slowest_p99);
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
  app.add_option("--seconds", flags.seconds, "Time each path is measured for, in all")
      ->capture_default_str();
  app.add_option("--rounds", flags.rounds, "Turns the measurement of every path is split into")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--concurrency", flags.concurrency, "Client threads")->capture_default_str();
  app.add_option("--k", flags.k, "Hits per search")->capture_default_str();
  app.add_option("--index", flags.spec, "Index spec of every shard")->capture_default_str();
  app.add_option("--out", flags.out, "Also write the report to this file");
  CLI11_PARSE(app, argc, argv);
  if (getenv("QUARRY_BIN") == nullptr) setenv("QUARRY_BIN", QUARRY_DEFAULT_BINARY, 1);
  return quarry::bench::Run(flags);
}
