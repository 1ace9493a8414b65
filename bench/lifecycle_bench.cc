// lifecycle_bench: what a shard's life costs beyond steady searching, with the real `quarry
// shard` binary over gRPC:
//   - Deletes: search QPS and recall@k of one shard before and after half of its documents
//     are deleted, with the same queries (recall after is against exact search over the
//     documents left). Search must not degrade.
//   - Restart: time from spawn to SERVING at several vector counts, with the index snapshot
//     the shard writes on SIGTERM, and without it (the index rebuilt from the database).
// Prints a Markdown report.
#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "bench/bench_config.h"
#include "bench/clustered_vectors.h"
#include "bench/ground_truth.h"
#include "bench/loaded_shard.h"
#include "bench/markdown_table.h"
#include "bench/progress.h"
#include "bench/restart_measurement.h"
#include "bench/search_load.h"

namespace quarry::bench {
namespace {

using Seconds = std::chrono::duration<double>;

constexpr uint64_t kBaseStream = 1;  // as in shard_bench: the same data
constexpr uint64_t kQueryStream = 2;
constexpr uint64_t kRestartStream = 3;
constexpr Seconds kStopTimeout{600};
constexpr int kDeletesPerRequest = 256;

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
  double seconds = 5;
  int search_threads = 4;
  std::string delete_spec = "IVF1024,Flat";
  int nprobe = 16;
  int ef_search = 0;
  std::vector<size_t> restart_vectors = {50000, 100000, 200000};
  std::string restart_spec = "IVF1024,Flat";
};

struct SearchFigures {
  size_t live_vectors = 0;
  double qps = 0;
  double recall = 0;
};

struct DeleteFigures {
  SearchFigures before;
  SearchFigures after;
  size_t documents_deleted = 0;
  double delete_seconds = 0;  // first Delete request to the last reply
  double settle_seconds = 0;  // last reply until the shard reports only the live chunks
};

// The rows of documents with an odd number: the half kept when the even ones are deleted.
std::vector<size_t> KeptRows(const VectorSet& base, const CorpusLayout& layout) {
  std::vector<size_t> rows;
  for (size_t row = 0; row < base.count; ++row) {
    if ((row / layout.chunks_per_document()) % 2 == 1) rows.push_back(row);
  }
  return rows;
}

VectorSet SelectRows(const VectorSet& base, const std::vector<size_t>& rows) {
  VectorSet subset;
  subset.dimension = base.dimension;
  subset.count = rows.size();
  subset.values.reserve(rows.size() * base.dimension);
  for (size_t row : rows) {
    subset.values.insert(subset.values.end(), base.row(row), base.row(row) + base.dimension);
  }
  return subset;
}

// Exact neighbours among `rows` of `base`, named by their base rows.
absl::StatusOr<std::vector<int64_t>> ExactAmong(const VectorSet& base,
                                                const std::vector<size_t>& rows,
                                                const VectorSet& queries, int k) {
  absl::StatusOr<std::vector<int64_t>> exact = ExactNeighbours(SelectRows(base, rows), queries, k);
  if (!exact.ok()) return exact.status();
  for (int64_t& label : *exact) {
    if (label >= 0) label = static_cast<int64_t>(rows[label]);
  }
  return exact;
}

absl::StatusOr<SearchFigures> MeasureSearch(const BenchConfig& config, const Flags& flags,
                                            ShardProcess& shard, const VectorSet& queries,
                                            const std::vector<int64_t>& exact, size_t live) {
  absl::StatusOr<std::vector<std::unique_ptr<v1::Shard::Stub>>> stubs =
      shard.ConnectClients(config.search_threads);
  if (!stubs.ok()) return stubs.status();
  const SearchSetting setting{.nprobe = flags.nprobe, .ef_search = flags.ef_search};
  absl::StatusOr<SearchLoadResult> load =
      RunSearchLoad(queries, {config.search_threads, config.k, config.measure_time},
                    ShardSearchFunction(*stubs, config, setting));
  if (!load.ok()) return load.status();
  SearchFigures figures{live, load->qps, RecallAtK(load->labels, exact, config.k)};
  ReportProgress(absl::StrFormat("deletes: %d live vectors, %.0f QPS, recall@%d %.3f", live,
                                 figures.qps, config.k, figures.recall));
  return figures;
}

// Deletes every document with an even number, kDeletesPerRequest per request.
absl::StatusOr<size_t> DeleteEvenDocuments(const BenchConfig& config, ShardProcess& shard,
                                           size_t vectors) {
  absl::StatusOr<std::vector<std::unique_ptr<v1::Shard::Stub>>> stubs = shard.ConnectClients(1);
  if (!stubs.ok()) return stubs.status();
  const size_t documents =
      (vectors + config.layout.chunks_per_document() - 1) / config.layout.chunks_per_document();
  size_t deleted = 0;
  v1::DeleteRequest request;
  request.set_tenant(config.layout.tenant());
  for (size_t document = 0; document < documents; document += 2) {
    request.add_doc_ids(config.layout.DocumentId(document * config.layout.chunks_per_document()));
    if (request.doc_ids_size() < kDeletesPerRequest && document + 2 < documents) continue;
    grpc::ClientContext context;
    v1::DeleteResponse response;
    grpc::Status status = (*stubs)[0]->Delete(&context, request, &response);
    if (!status.ok()) {
      return absl::InternalError(absl::StrCat("Delete failed: ", status.error_message()));
    }
    deleted += response.documents_deleted();
    request.clear_doc_ids();
  }
  return deleted;
}

absl::StatusOr<DeleteFigures> MeasureDeletes(const BenchConfig& config, const Flags& flags,
                                             const VectorSet& base, const VectorSet& queries) {
  absl::StatusOr<std::vector<int64_t>> exact_before = ExactNeighbours(base, queries, config.k);
  if (!exact_before.ok()) return exact_before.status();
  const std::vector<size_t> kept = KeptRows(base, config.layout);
  absl::StatusOr<std::vector<int64_t>> exact_after = ExactAmong(base, kept, queries, config.k);
  if (!exact_after.ok()) return exact_after.status();

  absl::StatusOr<LoadedShard> shard = StartLoadedShard(
      config, LaunchOptionsFor(config, flags.delete_spec, absl::StrCat(config.run_dir, "/deletes")),
      base);
  if (!shard.ok()) return shard.status();
  DeleteFigures figures;
  absl::StatusOr<SearchFigures> before =
      MeasureSearch(config, flags, *shard->process, queries, *exact_before, base.count);
  if (!before.ok()) return before.status();
  figures.before = *before;

  ReportProgress("deletes: deleting every other document");
  const auto deleting = std::chrono::steady_clock::now();
  absl::StatusOr<size_t> deleted = DeleteEvenDocuments(config, *shard->process, base.count);
  if (!deleted.ok()) return deleted.status();
  figures.documents_deleted = *deleted;
  const auto deleted_at = std::chrono::steady_clock::now();
  figures.delete_seconds = Seconds(deleted_at - deleting).count();
  absl::StatusOr<v1::StatsResponse> stats =
      shard->process->WaitUntilIndexed(kept.size(), config.index_timeout);
  if (!stats.ok()) return stats.status();
  figures.settle_seconds = Seconds(std::chrono::steady_clock::now() - deleted_at).count();

  absl::StatusOr<SearchFigures> after =
      MeasureSearch(config, flags, *shard->process, queries, *exact_after, kept.size());
  if (!after.ok()) return after.status();
  figures.after = *after;
  absl::Status stopped = shard->process->Stop(kStopTimeout);
  if (!stopped.ok()) return stopped;
  return figures;
}

std::string DeleteSection(const BenchConfig& config, const Flags& flags,
                          const DeleteFigures& deletes) {
  MarkdownTable table(
      {"phase", "live vectors", "QPS", absl::StrCat("recall@", config.k), "QPS / before"});
  for (const auto& [phase, figures] :
       {std::pair<std::string, const SearchFigures*>{"before", &deletes.before},
        {"after deleting half the documents", &deletes.after}}) {
    table.AddRow({phase, absl::StrCat(figures->live_vectors), absl::StrFormat("%.0f", figures->qps),
                  absl::StrFormat("%.3f", figures->recall),
                  absl::StrFormat("%.2fx", figures->qps / deletes.before.qps)});
  }
  return absl::StrCat(
      "## Deletes\n\n",
      absl::StrFormat(
          "One shard, index `%s` (%s), %d client threads, %.0f s per measurement; "
          "the same %d queries before and after. Recall after the deletes is "
          "against exact search over the documents left.\n\n",
          flags.delete_spec,
          SearchSetting{.nprobe = flags.nprobe, .ef_search = flags.ef_search}.Describe(),
          config.search_threads, config.measure_time.count(), flags.queries),
      table.Render(),
      absl::StrFormat("\n%d documents deleted in %.2f s (%.0f documents/s); the shard reported "
                      "only the live chunks %.2f s after the last reply.\n\n",
                      deletes.documents_deleted, deletes.delete_seconds,
                      deletes.documents_deleted / deletes.delete_seconds, deletes.settle_seconds));
}

std::string RestartSection(const Flags& flags, const std::vector<RestartMeasurement>& restarts) {
  MarkdownTable table({"vectors", "durable ingest vectors/s", "stop (snapshot) s",
                       "to SERVING with snapshot s", "to SERVING without snapshot s",
                       "without / with"});
  for (const RestartMeasurement& r : restarts) {
    table.AddRow(
        {absl::StrCat(r.ingest.vectors), absl::StrFormat("%.0f", r.ingest.vectors_per_second),
         absl::StrFormat("%.2f", r.stop_seconds), absl::StrFormat("%.2f", r.restart_seconds),
         absl::StrFormat("%.2f", r.restart_without_snapshot_seconds),
         absl::StrFormat("%.1fx",
                         r.restart_without_snapshot_seconds / std::max(1e-9, r.restart_seconds))});
  }
  return absl::StrCat(
      "## Restart\n\n",
      absl::StrFormat("One shard, index `%s`, stopped with SIGTERM (it drains and writes its "
                      "index snapshot) and started again; then stopped again, its snapshot "
                      "removed, and started once more, rebuilding its index from the database. "
                      "Time from spawn to health SERVING.\n\n",
                      flags.restart_spec),
      table.Render(), "\n");
}

absl::Status Run(const Flags& flags) {
  const std::string run_dir = absl::StrCat(flags.work_dir, "/quarry-lifecycle-bench-", getpid());
  std::filesystem::create_directories(run_dir);
  BenchConfig config;
  config.quarry_binary = flags.quarry_binary;
  config.run_dir = run_dir;
  config.dimension = flags.dimension;
  config.search_threads = flags.search_threads;
  config.measure_time = Seconds(flags.seconds);
  config.train_min = std::min<size_t>(config.train_min, flags.vectors);

  const ClusteredVectorGenerator generator(flags.dimension, flags.clusters, flags.seed);
  std::string report = "# Shard lifecycle benchmark\n\n";
  if (flags.vectors > 0) {
    ReportProgress(absl::StrFormat("deletes: generating %d vectors", flags.vectors));
    const VectorSet base = generator.Draw(flags.vectors, kBaseStream, flags.spread);
    const VectorSet queries = generator.Draw(flags.queries, kQueryStream, flags.spread);
    absl::StatusOr<DeleteFigures> deletes = MeasureDeletes(config, flags, base, queries);
    if (!deletes.ok()) return deletes.status();
    absl::StrAppend(&report, DeleteSection(config, flags, *deletes));
  }
  std::vector<RestartMeasurement> restarts;
  for (size_t count : flags.restart_vectors) {
    if (count == 0) continue;
    ReportProgress(absl::StrFormat("restart: %d vectors", count));
    const VectorSet vectors = generator.Draw(count, kRestartStream, flags.spread);
    BenchConfig restart_config = config;
    restart_config.train_min = std::min<size_t>(BenchConfig{}.train_min, count);
    absl::StatusOr<RestartMeasurement> restart =
        MeasureRestart(restart_config, flags.restart_spec, vectors, /*also_without_snapshot=*/true);
    if (!restart.ok()) return restart.status();
    restarts.push_back(*std::move(restart));
  }
  if (!restarts.empty()) absl::StrAppend(&report, RestartSection(flags, restarts));

  std::error_code ignored;
  std::filesystem::remove_all(run_dir, ignored);
  std::cout << report << std::flush;
  if (!flags.out.empty()) std::ofstream(flags.out) << report;
  return absl::OkStatus();
}

}  // namespace
}  // namespace quarry::bench

int main(int argc, char** argv) {
  quarry::bench::Flags flags;
  CLI::App app{
      "Measures a shard's search before and after deletes, and its restart time "
      "with and without an index snapshot. Prints a Markdown report."};
  app.add_option("--quarry", flags.quarry_binary, "The quarry binary")->capture_default_str();
  app.add_option("--work-dir", flags.work_dir, "Parent of the scratch directory")
      ->capture_default_str();
  app.add_option("--out", flags.out, "Also write the report here");
  app.add_option("--vectors", flags.vectors, "Vectors of the delete measurement; 0 skips it")
      ->capture_default_str();
  app.add_option("--queries", flags.queries, "Queries")->capture_default_str();
  app.add_option("--dim", flags.dimension, "Vector dimension")->capture_default_str();
  app.add_option("--clusters", flags.clusters, "Cluster centres of the synthetic data")
      ->capture_default_str();
  app.add_option("--spread", flags.spread, "Noise around the centres")->capture_default_str();
  app.add_option("--seed", flags.seed, "Seed of the synthetic data")->capture_default_str();
  app.add_option("--seconds", flags.seconds, "Duration of each search measurement")
      ->capture_default_str();
  app.add_option("--search-threads", flags.search_threads, "Closed-loop search clients")
      ->capture_default_str();
  app.add_option("--delete-index", flags.delete_spec, "Index spec of the delete measurement")
      ->capture_default_str();
  app.add_option("--nprobe", flags.nprobe, "IVF nprobe of its searches")->capture_default_str();
  app.add_option("--ef-search", flags.ef_search, "HNSW efSearch of its searches")
      ->capture_default_str();
  app.add_option("--restart-vectors", flags.restart_vectors,
                 "Vector counts of the restart measurement; 0 skips it")
      ->capture_default_str();
  app.add_option("--restart-index", flags.restart_spec, "Index spec of the restarted shard")
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  absl::Status status = quarry::bench::Run(flags);
  if (!status.ok()) {
    std::cerr << "lifecycle_bench: " << status.ToString() << "\n";
    return 1;
  }
  return 0;
}
