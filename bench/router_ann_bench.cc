// router_ann_bench: recall@k against QPS through the router, over 1 and 3 shards, on the same
// synthetic data as shard_bench, next to the same index spec built by FAISS in this process
// over all the data. Every shard and the router are real `quarry` processes on loopback; the
// vectors go in through the router's Ingest, which places each document on a shard, and every
// search fans out to all shards and merges their top k. Prints a Markdown report.
#include <CLI/CLI.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_replace.h"
#include "bench/bench_config.h"
#include "bench/clustered_vectors.h"
#include "bench/ground_truth.h"
#include "bench/in_process_index.h"
#include "bench/loaded_shard.h"
#include "bench/markdown_table.h"
#include "bench/progress.h"
#include "bench/search_load.h"
#include "bench/shard_process.h"
#include "tests/quarry_process.h"

namespace quarry::bench {
namespace {

using Seconds = std::chrono::duration<double>;

constexpr uint64_t kBaseStream = 1;  // as in shard_bench: the same data
constexpr uint64_t kQueryStream = 2;
constexpr Seconds kStartTimeout{600};
constexpr Seconds kStopTimeout{600};
constexpr size_t kRowsPerIngest = 256;

struct Flags {
  std::string quarry_binary = QUARRY_DEFAULT_BINARY;
  std::string work_dir = "/tmp";
  std::string out;
  size_t vectors = 100000;
  size_t queries = 1000;
  int dimension = 128;
  int clusters = 1000;
  float spread = 1.4f;
  uint64_t seed = 42;
  double seconds = 3;
  int search_threads = 4;
  std::vector<int> shard_counts = {1, 3};
  std::string ivf_spec = "IVF256,Flat";
  std::vector<int> nprobes = {4, 16, 64};
  std::vector<int> ef_searches = {16, 64, 128};
};

// QPS and recall of one setting along one path.
struct PathFigures {
  double qps = 0;
  double recall = 0;
};

struct SettingRow {
  std::string spec;
  SearchSetting setting;
  PathFigures in_process;
  std::vector<PathFigures> router;  // one per shard count
};

// A router over `shards` fresh shards of `spec`, all real processes.
class RouterCluster {
 public:
  static absl::StatusOr<std::unique_ptr<RouterCluster>> Start(const BenchConfig& config,
                                                              const std::string& spec, int shards) {
    auto cluster = std::unique_ptr<RouterCluster>(new RouterCluster());
    const std::string dir = absl::StrCat(config.run_dir, "/", shards, "-shards-",
                                         absl::StrReplaceAll(spec, {{",", "_"}}));
    std::filesystem::create_directories(dir);
    std::string topology = "shards:\n";
    for (int s = 0; s < shards; ++s) {
      ShardLaunchOptions launch = LaunchOptionsFor(config, spec, absl::StrCat(dir, "/s", s));
      launch.shard_id = s;
      absl::StatusOr<std::unique_ptr<ShardProcess>> shard =
          ShardProcess::Start(launch, kStartTimeout);
      if (!shard.ok()) return shard.status();
      absl::Status serving = (*shard)->WaitUntilServing(kStartTimeout);
      if (!serving.ok()) return serving;
      absl::StrAppend(&topology, "  - replicas: [127.0.0.1:", (*shard)->port(), "]\n");
      cluster->shards_.push_back(*std::move(shard));
    }
    const std::string topology_path = dir + "/topology.yaml";
    std::ofstream(topology_path) << topology;
    cluster->router_ = std::make_unique<testing::QuarryProcess>(
        "router", std::vector<std::string>{"--topology", topology_path, "--log-level", "warn"});
    absl::Status started = cluster->router_->Start(std::chrono::seconds(120));
    if (!started.ok()) return started;
    return cluster;
  }

  ~RouterCluster() {
    router_.reset();
    for (auto& shard : shards_) shard->Stop(kStopTimeout).IgnoreError();
  }

  // Ingests every row through the router as CorpusLayout documents.
  absl::Status Ingest(const BenchConfig& config, const VectorSet& base) {
    const size_t per_request =
        kRowsPerIngest - kRowsPerIngest % config.layout.chunks_per_document();
    for (size_t begin = 0; begin < base.count; begin += per_request) {
      v1::IngestRequest request;
      v1::DocumentChunks* entry = nullptr;
      for (size_t row = begin; row < std::min(base.count, begin + per_request); ++row) {
        if (entry == nullptr || config.layout.Ordinal(row) == 0) {
          entry = request.add_documents();
          entry->mutable_document()->set_id(config.layout.DocumentId(row));
          entry->mutable_document()->set_tenant(config.layout.tenant());
        }
        v1::Chunk* chunk = entry->add_chunks();
        chunk->set_ordinal(config.layout.Ordinal(row));
        chunk->mutable_vector()->Add(base.row(row), base.row(row) + base.dimension);
      }
      grpc::ClientContext context;
      v1::IngestResponse response;
      grpc::Status status = router_->router().Ingest(&context, request, &response);
      if (!status.ok()) return absl::InternalError("Ingest failed: " + status.error_message());
    }
    return absl::OkStatus();
  }

  // Waits until the shards hold `chunks` in all, each trained with nothing buffered.
  absl::Status WaitUntilIndexed(uint64_t chunks, Seconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      uint64_t total = 0;
      bool settled = true;
      for (const auto& shard : shards_) {
        absl::StatusOr<v1::StatsResponse> stats = shard->Stats();
        if (!stats.ok()) return stats.status();
        total += stats->chunks();
        settled = settled && stats->trained() && stats->vectors_buffered() == 0;
      }
      if (settled && total == chunks) return absl::OkStatus();
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    return absl::DeadlineExceededError("the shards did not finish indexing in time");
  }

  // One router stub per worker, each on a connection of its own.
  std::vector<std::unique_ptr<v1::Router::Stub>> ConnectClients(int count) const {
    std::vector<std::unique_ptr<v1::Router::Stub>> stubs;
    for (int i = 0; i < count; ++i) {
      grpc::ChannelArguments args;
      args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
      stubs.push_back(v1::Router::NewStub(
          grpc::CreateCustomChannel(router_->address(), grpc::InsecureChannelCredentials(), args)));
    }
    return stubs;
  }

 private:
  RouterCluster() = default;

  std::vector<std::unique_ptr<ShardProcess>> shards_;
  std::unique_ptr<testing::QuarryProcess> router_;
};

SearchFunction RouterSearchFunction(const std::vector<std::unique_ptr<v1::Router::Stub>>& stubs,
                                    const BenchConfig& config, const SearchSetting& setting) {
  return [&stubs, &config, setting](int worker, const float* query,
                                    int64_t* labels) -> absl::Status {
    v1::RouterSearchRequest request;
    request.mutable_vector()->Add(query, query + config.dimension);
    request.set_k(config.k);
    request.mutable_principal()->set_tenant(config.layout.tenant());
    request.mutable_params()->set_nprobe(setting.nprobe);
    request.mutable_params()->set_ef_search(setting.ef_search);
    request.set_require_full_coverage(true);
    v1::RouterSearchResponse response;
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    grpc::Status status = stubs[worker]->Search(&context, request, &response);
    if (!status.ok()) return absl::InternalError("Search failed: " + status.error_message());
    for (int i = 0; i < config.k; ++i) {
      labels[i] = i < response.hits_size()
                      ? config.layout.RowOf(response.hits(i).doc_id(), response.hits(i).ordinal())
                      : -1;
    }
    return absl::OkStatus();
  };
}

absl::StatusOr<PathFigures> Measure(const BenchConfig& config, const VectorSet& queries,
                                    const std::vector<int64_t>& exact, const SearchFunction& search,
                                    const std::string& what) {
  absl::StatusOr<SearchLoadResult> load =
      RunSearchLoad(queries, {config.search_threads, config.k, config.measure_time}, search);
  if (!load.ok()) return load.status();
  PathFigures figures{load->qps, RecallAtK(load->labels, exact, config.k)};
  ReportProgress(
      absl::StrFormat("%s: %.0f QPS, recall@%d %.3f", what, figures.qps, config.k, figures.recall));
  return figures;
}

// Measures one spec at every setting: in process, then through each cluster size.
absl::Status MeasureSpec(const BenchConfig& config, const Flags& flags, const std::string& spec,
                         const std::vector<SearchSetting>& settings, const VectorSet& base,
                         const VectorSet& queries, const std::vector<int64_t>& exact,
                         std::vector<SettingRow>& rows) {
  const size_t first = rows.size();
  for (const SearchSetting& setting : settings) rows.push_back({spec, setting, {}, {}});

  ReportProgress(absl::StrFormat("%s: building in process", spec));
  absl::StatusOr<std::unique_ptr<InProcessIndex>> index =
      InProcessIndex::Build(spec, base, config.train_min);
  if (!index.ok()) return index.status();
  for (size_t i = 0; i < settings.size(); ++i) {
    (*index)->UseSetting(settings[i]);
    const InProcessIndex& searched = **index;
    const SearchSetting setting = settings[i];
    const int k = config.k;
    absl::StatusOr<PathFigures> figures = Measure(
        config, queries, exact,
        [&searched, setting, k](int, const float* query, int64_t* labels) {
          return searched.Search(query, k, setting, labels);
        },
        absl::StrCat(spec, " ", setting.Describe(), " in process"));
    if (!figures.ok()) return figures.status();
    rows[first + i].in_process = *figures;
  }
  index->reset();

  for (int shards : flags.shard_counts) {
    ReportProgress(absl::StrFormat("%s: %d shard(s) behind a router, ingesting", spec, shards));
    absl::StatusOr<std::unique_ptr<RouterCluster>> cluster =
        RouterCluster::Start(config, spec, shards);
    if (!cluster.ok()) return cluster.status();
    absl::Status status = (*cluster)->Ingest(config, base);
    if (status.ok()) status = (*cluster)->WaitUntilIndexed(base.count, config.index_timeout);
    if (!status.ok()) return status;
    const auto stubs = (*cluster)->ConnectClients(config.search_threads);
    for (size_t i = 0; i < settings.size(); ++i) {
      absl::StatusOr<PathFigures> figures =
          Measure(config, queries, exact, RouterSearchFunction(stubs, config, settings[i]),
                  absl::StrCat(spec, " ", settings[i].Describe(), " router over ", shards));
      if (!figures.ok()) return figures.status();
      rows[first + i].router.push_back(*figures);
    }
  }
  return absl::OkStatus();
}

std::string Report(const BenchConfig& config, const Flags& flags,
                   const std::vector<SettingRow>& rows) {
  std::vector<std::string> header = {"index", "setting", "in-process QPS",
                                     absl::StrCat("in-process recall@", config.k)};
  for (int shards : flags.shard_counts) {
    header.push_back(absl::StrFormat("router, %d shard(s): QPS", shards));
    header.push_back(absl::StrCat("recall@", config.k));
    header.push_back("QPS / in-process");
  }
  MarkdownTable table(header);
  for (const SettingRow& row : rows) {
    std::vector<std::string> cells = {row.spec, row.setting.Describe(),
                                      absl::StrFormat("%.0f", row.in_process.qps),
                                      absl::StrFormat("%.3f", row.in_process.recall)};
    for (const PathFigures& path : row.router) {
      cells.push_back(absl::StrFormat("%.0f", path.qps));
      cells.push_back(absl::StrFormat("%.3f", path.recall));
      cells.push_back(absl::StrFormat("%.2f", path.qps / row.in_process.qps));
    }
    table.AddRow(cells);
  }
  return absl::StrCat(
      "# ANN through the router\n\n",
      absl::StrFormat("%d x %d vectors (the same as the shard benchmark's), %d queries, k = %d; "
                      "%d closed-loop client threads over gRPC for %.0f s per setting, every "
                      "search fanned out to all shards and merged. The baseline is the same "
                      "spec built by FAISS in this process over all the vectors and searched by "
                      "as many threads. IVF trains on %d vectors per shard and in process.\n\n",
                      flags.vectors, flags.dimension, flags.queries, config.k,
                      config.search_threads, flags.seconds, config.train_min),
      table.Render(), "\n");
}

absl::Status Run(const Flags& flags) {
  const std::string run_dir = absl::StrCat(flags.work_dir, "/quarry-router-ann-", getpid());
  std::filesystem::create_directories(run_dir);
  BenchConfig config;
  config.quarry_binary = flags.quarry_binary;
  config.run_dir = run_dir;
  config.dimension = flags.dimension;
  config.search_threads = flags.search_threads;
  config.measure_time = Seconds(flags.seconds);
  int most_shards = 1;
  for (int shards : flags.shard_counts) most_shards = std::max(most_shards, shards);
  // Every shard must reach the training size, whatever share of the data it gets.
  config.train_min = std::min<size_t>(config.train_min, flags.vectors * 8 / 10 / most_shards);

  const ClusteredVectorGenerator generator(flags.dimension, flags.clusters, flags.seed);
  const VectorSet base = generator.Draw(flags.vectors, kBaseStream, flags.spread);
  const VectorSet queries = generator.Draw(flags.queries, kQueryStream, flags.spread);
  absl::StatusOr<std::vector<int64_t>> exact = ExactNeighbours(base, queries, config.k);
  if (!exact.ok()) return exact.status();

  std::vector<SearchSetting> ivf, hnsw;
  for (int nprobe : flags.nprobes) ivf.push_back({.nprobe = nprobe});
  for (int ef : flags.ef_searches) hnsw.push_back({.ef_search = ef});
  std::vector<SettingRow> rows;
  for (const auto& [spec, settings] :
       std::vector<std::pair<std::string, std::vector<SearchSetting>>>{
           {"Flat", {SearchSetting{}}}, {flags.ivf_spec, ivf}, {"HNSW32", hnsw}}) {
    absl::Status status = MeasureSpec(config, flags, spec, settings, base, queries, *exact, rows);
    if (!status.ok())
      return absl::Status(status.code(), absl::StrCat(spec, ": ", status.message()));
  }

  std::error_code ignored;
  std::filesystem::remove_all(run_dir, ignored);
  const std::string report = Report(config, flags, rows);
  std::cout << report << std::flush;
  if (!flags.out.empty()) std::ofstream(flags.out) << report;
  return absl::OkStatus();
}

}  // namespace
}  // namespace quarry::bench

int main(int argc, char** argv) {
  quarry::bench::Flags flags;
  CLI::App app{
      "Measures recall@10 against QPS through the router over 1 and 3 shards, next to "
      "FAISS in process. Prints a Markdown report."};
  app.add_option("--quarry", flags.quarry_binary, "The quarry binary")->capture_default_str();
  app.add_option("--work-dir", flags.work_dir, "Parent of the scratch directory")
      ->capture_default_str();
  app.add_option("--out", flags.out, "Also write the report here");
  app.add_option("--vectors", flags.vectors, "Base vectors")->capture_default_str();
  app.add_option("--queries", flags.queries, "Queries")->capture_default_str();
  app.add_option("--dim", flags.dimension, "Vector dimension")->capture_default_str();
  app.add_option("--clusters", flags.clusters, "Cluster centres of the synthetic data")
      ->capture_default_str();
  app.add_option("--spread", flags.spread, "Noise around the centres")->capture_default_str();
  app.add_option("--seed", flags.seed, "Seed of the synthetic data")->capture_default_str();
  app.add_option("--seconds", flags.seconds, "Duration of each measurement")->capture_default_str();
  app.add_option("--search-threads", flags.search_threads, "Closed-loop search clients")
      ->capture_default_str();
  app.add_option("--shards", flags.shard_counts, "Cluster sizes to measure")->capture_default_str();
  app.add_option("--ivf", flags.ivf_spec, "The IVF spec measured")->capture_default_str();
  app.add_option("--nprobe", flags.nprobes, "IVF settings")->capture_default_str();
  app.add_option("--ef-search", flags.ef_searches, "HNSW settings")->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  if (getenv("QUARRY_BIN") == nullptr) setenv("QUARRY_BIN", flags.quarry_binary.c_str(), 1);
  absl::Status status = quarry::bench::Run(flags);
  if (!status.ok()) {
    std::cerr << "router_ann_bench: " << status.ToString() << "\n";
    return 1;
  }
  return 0;
}
