// shard_bench: measures one Quarry shard against the project's goals. It starts the real
// `quarry shard` binary on loopback, measures durable ingest, then search QPS and recall@k
// for Flat, IVF and HNSW indexes next to FAISS called in process on the same data, then the
// restart time of a large shard, and prints a Markdown report (see bench/README.md).
#include <stdlib.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "bench/bench_config.h"
#include "bench/clustered_vectors.h"
#include "bench/ground_truth.h"
#include "bench/progress.h"
#include "bench/report.h"
#include "bench/restart_measurement.h"
#include "bench/spec_comparison.h"

namespace quarry::bench {
namespace {

// Independent draws from the same clusters.
constexpr uint64_t kBaseStream = 1;
constexpr uint64_t kQueryStream = 2;
constexpr uint64_t kRestartStream = 3;

struct BenchFlags {
  std::string quarry_binary = QUARRY_DEFAULT_BINARY;
  std::string out;
  std::string work_dir = "/tmp";
  size_t vectors = 200000;
  size_t queries = 1000;
  int dimension = 128;
  int clusters = 1000;
  float spread = 1.4f;
  uint64_t seed = 42;
  double seconds = 5;
  int ingest_threads = 4;
  int search_threads = 4;
  int documents_per_request = 32;
  int chunks_per_document = 8;
  int text_bytes = 256;
  size_t train_min = 40000;
  std::string ivf_spec = "IVF1024,Flat";
  std::vector<int> nprobes = {4, 16, 64};
  std::vector<int> ef_searches = {16, 64, 128};
  size_t restart_vectors = 1000000;
  std::string restart_spec = "Flat";
  double index_timeout = 900;
};

void AddFlags(CLI::App& app, BenchFlags& flags) {
  app.add_option("--quarry", flags.quarry_binary, "The quarry binary to start")
      ->capture_default_str();
  app.add_option("--out", flags.out, "Also write the Markdown report to this file");
  app.add_option("--work-dir", flags.work_dir,
                 "Where to make the scratch directory for shard data (removed at the end)")
      ->capture_default_str();
  app.add_option("--vectors", flags.vectors, "Base vectors for ingest and search")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--queries", flags.queries, "Search queries, drawn apart from the base set")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--dim", flags.dimension, "Vector dimension")
      ->capture_default_str()
      ->check(CLI::Range(1, 4096));
  app.add_option("--clusters", flags.clusters, "Gaussian cluster centres of the synthetic data")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--spread", flags.spread,
                 "Standard deviation of a point around its centre, per coordinate (centres "
                 "have 1)")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--seed", flags.seed, "Seed of the synthetic data")->capture_default_str();
  app.add_option("--seconds", flags.seconds, "Duration of each search measurement")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--ingest-threads", flags.ingest_threads, "Concurrent Upsert clients")
      ->capture_default_str()
      ->check(CLI::Range(1, 256));
  app.add_option("--search-threads", flags.search_threads,
                 "Concurrent search clients, and in-process searching threads")
      ->capture_default_str()
      ->check(CLI::Range(1, 256));
  app.add_option("--docs-per-request", flags.documents_per_request, "Documents per Upsert")
      ->capture_default_str()
      ->check(CLI::Range(1, 100000));
  app.add_option("--chunks-per-doc", flags.chunks_per_document, "Chunks (vectors) per document")
      ->capture_default_str()
      ->check(CLI::Range(1, 10000));
  app.add_option("--text-bytes", flags.text_bytes, "Bytes of passage text per chunk")
      ->capture_default_str()
      ->check(CLI::Range(0, 1 << 20));
  app.add_option("--train-min", flags.train_min,
                 "Vectors an IVF index trains on, in the shard and in process (capped at "
                 "--vectors)")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--ivf", flags.ivf_spec, "The IVF spec measured")->capture_default_str();
  app.add_option("--nprobe", flags.nprobes, "IVF settings to measure")
      ->delimiter(',')
      ->capture_default_str();
  app.add_option("--ef-search", flags.ef_searches, "HNSW settings to measure")
      ->delimiter(',')
      ->capture_default_str();
  app.add_option("--restart-vectors", flags.restart_vectors,
                 "Vectors in the shard whose restart is timed; 0 skips the restart")
      ->capture_default_str();
  app.add_option("--restart-index", flags.restart_spec, "Index spec of the restarted shard")
      ->capture_default_str();
  app.add_option("--index-timeout", flags.index_timeout,
                 "Seconds a shard may take to train and index after ingest")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
}

// A scratch directory made with mkdtemp and removed, with everything in it, on destruction.
class ScratchDirectory {
 public:
  static absl::StatusOr<ScratchDirectory> Create(const std::string& parent) {
    std::string path = parent + "/quarry-shard-bench-XXXXXX";
    if (mkdtemp(path.data()) == nullptr) {
      return absl::FailedPreconditionError(
          absl::StrCat("cannot make a scratch directory in '", parent, "'"));
    }
    return ScratchDirectory(path);
  }

  ScratchDirectory(ScratchDirectory&& other) noexcept : path_(std::move(other.path_)) {
    other.path_.clear();
  }
  ScratchDirectory(const ScratchDirectory&) = delete;
  ScratchDirectory& operator=(const ScratchDirectory&) = delete;
  ~ScratchDirectory() {
    if (path_.empty()) return;
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }

  const std::string& path() const { return path_; }

 private:
  explicit ScratchDirectory(std::string path) : path_(std::move(path)) {}

  std::string path_;
};

absl::Status Run(const BenchFlags& flags) {
  const auto start = std::chrono::steady_clock::now();
  if (!std::filesystem::exists(flags.quarry_binary)) {
    return absl::NotFoundError(absl::StrCat("no quarry binary at '", flags.quarry_binary,
                                            "'; build it (ninja quarry) or pass --quarry"));
  }
  absl::StatusOr<ScratchDirectory> scratch = ScratchDirectory::Create(flags.work_dir);
  if (!scratch.ok()) return scratch.status();

  BenchConfig config;
  config.layout = CorpusLayout("bench", flags.chunks_per_document);
  config.quarry_binary = flags.quarry_binary;
  config.run_dir = scratch->path();
  config.dimension = flags.dimension;
  config.search_threads = flags.search_threads;
  config.measure_time = std::chrono::duration<double>(flags.seconds);
  config.index_timeout = std::chrono::duration<double>(flags.index_timeout);
  config.train_min = std::min(flags.train_min, flags.vectors);
  config.ingest.threads = flags.ingest_threads;
  config.ingest.documents_per_request = flags.documents_per_request;
  config.ingest.text_bytes = flags.text_bytes;

  ReportProgress(
      absl::StrFormat("generating %d base vectors and %d queries", flags.vectors, flags.queries));
  const ClusteredVectorGenerator generator(flags.dimension, flags.clusters, flags.seed);
  const VectorSet base = generator.Draw(flags.vectors, kBaseStream, flags.spread);
  const VectorSet queries = generator.Draw(flags.queries, kQueryStream, flags.spread);
  absl::StatusOr<std::vector<int64_t>> exact = ExactNeighbours(base, queries, config.k);
  if (!exact.ok()) return exact.status();

  std::vector<SearchSetting> exact_only = {SearchSetting{}};
  std::vector<SearchSetting> ivf_settings;
  for (int nprobe : flags.nprobes) ivf_settings.push_back({.nprobe = nprobe});
  std::vector<SearchSetting> hnsw_settings;
  for (int ef : flags.ef_searches) hnsw_settings.push_back({.ef_search = ef});
  const std::vector<std::pair<std::string, std::vector<SearchSetting>>> plan = {
      {"Flat", exact_only}, {flags.ivf_spec, ivf_settings}, {"HNSW32", hnsw_settings}};

  std::vector<SpecComparison> specs;
  for (const auto& [spec, settings] : plan) {
    absl::StatusOr<SpecComparison> comparison =
        CompareSpec(config, spec, settings, base, queries, *exact);
    if (!comparison.ok()) {
      return absl::Status(comparison.status().code(),
                          absl::StrCat(spec, ": ", comparison.status().message()));
    }
    specs.push_back(*std::move(comparison));
  }

  std::optional<RestartMeasurement> restart;
  if (flags.restart_vectors > 0) {
    ReportProgress(absl::StrFormat("generating %d vectors for the restart", flags.restart_vectors));
    const VectorSet restart_set =
        generator.Draw(flags.restart_vectors, kRestartStream, flags.spread);
    absl::StatusOr<RestartMeasurement> measured =
        MeasureRestart(config, flags.restart_spec, restart_set);
    if (!measured.ok()) {
      return absl::Status(measured.status().code(),
                          absl::StrCat("restart: ", measured.status().message()));
    }
    restart = *std::move(measured);
  }

  RunDescription run;
  run.base_vectors = flags.vectors;
  run.queries = flags.queries;
  run.clusters = flags.clusters;
  run.spread = flags.spread;
  run.seed = flags.seed;
  run.total_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const std::string report = RenderReport(config, run, specs, restart);
  std::cout << report << std::flush;
  if (!flags.out.empty()) {
    std::ofstream out(flags.out);
    out << report;
    out.close();
    if (!out) return absl::UnavailableError(absl::StrCat("cannot write '", flags.out, "'"));
  }
  return absl::OkStatus();
}

}  // namespace
}  // namespace quarry::bench

int main(int argc, char** argv) {
  CLI::App app{
      "Measures a Quarry shard: durable ingest, search QPS and recall against FAISS "
      "in process, and restart time. Prints a Markdown report."};
  quarry::bench::BenchFlags flags;
  quarry::bench::AddFlags(app, flags);
  CLI11_PARSE(app, argc, argv);

  absl::Status status = quarry::bench::Run(flags);
  if (!status.ok()) {
    std::cerr << "shard_bench: " << status.ToString() << "\n";
    return 1;
  }
  return 0;
}
