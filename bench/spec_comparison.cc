#include "bench/spec_comparison.h"

#include <chrono>
#include <filesystem>
#include <memory>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_replace.h"
#include "bench/cpu_time.h"
#include "bench/ground_truth.h"
#include "bench/in_process_index.h"
#include "bench/loaded_shard.h"
#include "bench/progress.h"
#include "bench/search_load.h"
#include "bench/shard_process.h"
#include "quarry/v1/shard.grpc.pb.h"

namespace quarry::bench {
namespace {

using Clock = std::chrono::steady_clock;
using Seconds = std::chrono::duration<double>;

constexpr Seconds kStopTimeout{300};

// Where the shard for `spec` keeps its data: "IVF1024,Flat" becomes <run_dir>/IVF1024_Flat.
std::string DataDirFor(const BenchConfig& config, const std::string& spec) {
  return absl::StrCat(config.run_dir, "/", absl::StrReplaceAll(spec, {{",", "_"}}));
}

// QPS, recall@k and CPU cost of one search function under the closed-loop load.
struct LoadFigures {
  double qps = 0;
  double recall = 0;
  double own_cpu_us = 0;    // per query, in this process
  double shard_cpu_us = 0;  // per query, in `shard` when one is given
};

absl::StatusOr<LoadFigures> MeasureLoad(const BenchConfig& config, const VectorSet& queries,
                                        const std::vector<int64_t>& exact,
                                        const SearchFunction& search, const ShardProcess* shard,
                                        const std::string& what) {
  const double own_before = OwnCpuSeconds();
  absl::StatusOr<double> shard_before =
      shard ? ProcessCpuSeconds(shard->pid()) : absl::StatusOr<double>(0.0);
  absl::StatusOr<SearchLoadResult> load =
      RunSearchLoad(queries, {config.search_threads, config.k, config.measure_time}, search);
  if (!load.ok()) return load.status();
  absl::StatusOr<double> shard_after =
      shard ? ProcessCpuSeconds(shard->pid()) : absl::StatusOr<double>(0.0);
  const double own_after = OwnCpuSeconds();

  const double answered = static_cast<double>(load->completed + load->answered_after);
  LoadFigures figures;
  figures.qps = load->qps;
  figures.recall = RecallAtK(load->labels, exact, config.k);
  figures.own_cpu_us = 1e6 * (own_after - own_before) / answered;
  if (shard_before.ok() && shard_after.ok()) {
    figures.shard_cpu_us = 1e6 * (*shard_after - *shard_before) / answered;
  }
  ReportProgress(
      absl::StrFormat("%s: %.0f QPS, recall@%d %.3f", what, figures.qps, config.k, figures.recall));
  return figures;
}

// Loads the base set into a fresh shard, waits for it to index everything, and measures its
// searches into `comparison`. The shard is stopped before this returns.
absl::Status MeasureShard(const BenchConfig& config, const std::vector<SearchSetting>& settings,
                          const VectorSet& base, const VectorSet& queries,
                          const std::vector<int64_t>& exact, SpecComparison& comparison) {
  absl::StatusOr<LoadedShard> shard = StartLoadedShard(
      config, LaunchOptionsFor(config, comparison.spec, DataDirFor(config, comparison.spec)), base);
  if (!shard.ok()) return shard.status();
  comparison.ingest = shard->ingest;
  comparison.index_seconds = shard->index_seconds;
  comparison.index_type = shard->stats.index_type();
  comparison.index_memory_bytes = shard->stats.index_memory_bytes();
  comparison.resident_bytes = shard->process->ResidentBytes().value_or(0);

  absl::StatusOr<std::vector<std::unique_ptr<v1::Shard::Stub>>> stubs =
      shard->process->ConnectClients(config.search_threads);
  if (!stubs.ok()) return stubs.status();
  for (size_t i = 0; i < settings.size(); ++i) {
    absl::StatusOr<LoadFigures> figures = MeasureLoad(
        config, queries, exact, ShardSearchFunction(*stubs, config, settings[i]),
        shard->process.get(), absl::StrCat(comparison.spec, " ", settings[i].Describe(), " shard"));
    if (!figures.ok()) return figures.status();
    comparison.settings[i].shard_qps = figures->qps;
    comparison.settings[i].shard_recall = figures->recall;
    comparison.settings[i].shard_cpu_us = figures->shard_cpu_us;
    comparison.settings[i].client_cpu_us = figures->own_cpu_us;
  }
  stubs->clear();
  return shard->process->Stop(kStopTimeout);
}

// Builds the spec in this process and measures its searches into `comparison`.
absl::Status MeasureInProcess(const BenchConfig& config, const std::vector<SearchSetting>& settings,
                              const VectorSet& base, const VectorSet& queries,
                              const std::vector<int64_t>& exact, SpecComparison& comparison) {
  ReportProgress(absl::StrFormat("%s: building in process", comparison.spec));
  const Clock::time_point start = Clock::now();
  absl::StatusOr<std::unique_ptr<InProcessIndex>> index =
      InProcessIndex::Build(comparison.spec, base, config.train_min);
  if (!index.ok()) return index.status();
  comparison.in_process_build_seconds = Seconds(Clock::now() - start).count();

  for (size_t i = 0; i < settings.size(); ++i) {
    const SearchSetting& setting = settings[i];
    (*index)->UseSetting(setting);
    const InProcessIndex& searched = **index;
    const int k = config.k;
    SearchFunction search = [&searched, &setting, k](int, const float* query, int64_t* labels) {
      return searched.Search(query, k, setting, labels);
    };
    absl::StatusOr<LoadFigures> figures =
        MeasureLoad(config, queries, exact, search, nullptr,
                    absl::StrCat(comparison.spec, " ", setting.Describe(), " in process"));
    if (!figures.ok()) return figures.status();
    comparison.settings[i].in_process_qps = figures->qps;
    comparison.settings[i].in_process_recall = figures->recall;
    comparison.settings[i].in_process_cpu_us = figures->own_cpu_us;
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<SpecComparison> CompareSpec(const BenchConfig& config, const std::string& spec,
                                           const std::vector<SearchSetting>& settings,
                                           const VectorSet& base, const VectorSet& queries,
                                           const std::vector<int64_t>& exact) {
  SpecComparison comparison;
  comparison.spec = spec;
  for (const SearchSetting& setting : settings) comparison.settings.push_back({setting});

  // One after the other, so that the shard and the baseline never share the cores.
  absl::Status status = MeasureShard(config, settings, base, queries, exact, comparison);
  if (!status.ok()) return status;
  std::error_code ignored;
  std::filesystem::remove_all(DataDirFor(config, spec), ignored);
  status = MeasureInProcess(config, settings, base, queries, exact, comparison);
  if (!status.ok()) return status;
  return comparison;
}

}  // namespace quarry::bench
