#include "bench/report.h"

#include <algorithm>
#include <cmath>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "bench/markdown_table.h"

namespace quarry::bench {
namespace {

// The goals the project set for a shard.
constexpr double kIngestGoal = 50000;  // durable vectors per second
constexpr double kRecallGoal = 0.95;   // recall@10 ...
constexpr double kQpsShareGoal = 0.8;  // ... at this share of in-process QPS
constexpr double kRestartGoal = 5.0;   // seconds from start to SERVING

// 1234567.8 -> "1,234,568".
std::string Thousands(double value) {
  const std::string digits = absl::StrFormat("%.0f", std::fabs(value));
  std::string grouped = value < 0 ? "-" : "";
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) grouped.push_back(',');
    grouped.push_back(digits[i]);
  }
  return grouped;
}

std::string Mebibytes(uint64_t bytes) {
  return absl::StrFormat("%.0f MiB", static_cast<double>(bytes) / (1 << 20));
}

std::string Met(bool met) { return met ? "yes" : "**no**"; }

const SpecComparison* FindSpec(const std::vector<SpecComparison>& specs, const std::string& name) {
  for (const SpecComparison& spec : specs) {
    if (spec.spec == name) return &spec;
  }
  return nullptr;
}

// The search goal for one spec: the shard's fastest setting that reaches the recall goal,
// against the in-process fastest setting that reaches it too.
std::vector<std::string> SearchGoalRow(const SpecComparison& spec, int k) {
  const SettingComparison* shard_best = nullptr;
  const SettingComparison* in_process_best = nullptr;
  double best_shard_recall = 0;
  for (const SettingComparison& s : spec.settings) {
    best_shard_recall = std::max(best_shard_recall, s.shard_recall);
    if (s.shard_recall >= kRecallGoal && (!shard_best || s.shard_qps > shard_best->shard_qps)) {
      shard_best = &s;
    }
    if (s.in_process_recall >= kRecallGoal &&
        (!in_process_best || s.in_process_qps > in_process_best->in_process_qps)) {
      in_process_best = &s;
    }
  }
  const std::string goal = absl::StrFormat("%s: recall@%d >= %.2f at >= %.0f%% of in-process QPS",
                                           spec.spec, k, kRecallGoal, 100 * kQpsShareGoal);
  if (shard_best == nullptr) {
    return {goal, absl::StrFormat("no setting reached the recall (best %.3f)", best_shard_recall),
            Met(false)};
  }
  if (in_process_best == nullptr) {
    return {goal, "in-process FAISS did not reach the recall either", "n/a"};
  }
  const double share = shard_best->shard_qps / in_process_best->in_process_qps;
  return {goal,
          absl::StrFormat("%s: recall %.3f, %s QPS = %.0f%% of in-process %s QPS (%s)",
                          shard_best->setting.Describe(), shard_best->shard_recall,
                          Thousands(shard_best->shard_qps), 100 * share,
                          Thousands(in_process_best->in_process_qps),
                          in_process_best->setting.Describe()),
          Met(share >= kQpsShareGoal)};
}

std::string SetupSection(const BenchConfig& config, const RunDescription& run) {
  const IngestOptions& ingest = config.ingest;
  return absl::StrCat(
      "# Shard benchmark\n\n",
      absl::StrFormat("Run %s on %d cores, %.0f s in all. Produced by `shard_bench` against "
                      "`%s`.\n\n",
                      absl::FormatTime("%Y-%m-%d %H:%M UTC", absl::Now(), absl::UTCTimeZone()),
                      std::thread::hardware_concurrency(), run.total_seconds, config.quarry_binary),
      absl::StrFormat(
          "- Data: %s x %d synthetic vectors, each one of %d Gaussian cluster centres plus "
          "N(0, %.2f^2) noise per coordinate, normalised (metric ip); seed %d. %s queries drawn "
          "the same way, not from the base set; k = %d.\n",
          Thousands(run.base_vectors), config.dimension, run.clusters, run.spread, run.seed,
          Thousands(run.queries), config.k),
      absl::StrFormat("- Ingest: Upsert requests of %d documents x %d chunks (%d vectors, %d bytes "
                      "of text per chunk) from %d client threads, one connection each; every "
                      "reply means the write is synced to the shard's WAL.\n",
                      ingest.documents_per_request, config.layout.chunks_per_document(),
                      ingest.documents_per_request * config.layout.chunks_per_document(),
                      ingest.text_bytes, ingest.threads),
      absl::StrFormat("- Search: closed loop, %d client threads over loopback gRPC, one query "
                      "per request, %.0f s per setting. The baseline is the same index_factory "
                      "spec built in the benchmark process over the same data and searched by "
                      "%d threads with one OpenMP thread each. IVF trains on %s vectors in both.\n",
                      config.search_threads, config.measure_time.count(), config.search_threads,
                      Thousands(static_cast<double>(config.train_min))),
      "- Recall@k is against exact inner-product search (faiss::IndexFlatIP) over the same "
      "vectors.\n\n");
}

std::string SummarySection(const BenchConfig& config, const std::vector<SpecComparison>& specs,
                           const std::optional<RestartMeasurement>& restart) {
  MarkdownTable table({"goal", "measured", "met"});
  if (!specs.empty()) {
    const SpecComparison* flat = FindSpec(specs, "Flat");
    const SpecComparison& ingest_spec = flat != nullptr ? *flat : specs.front();
    const double rate = ingest_spec.ingest.vectors_per_second;
    table.AddRow({absl::StrFormat("durable ingest >= %s vectors/s", Thousands(kIngestGoal)),
                  absl::StrFormat("%s vectors/s (%s index, %s vectors)", Thousands(rate),
                                  ingest_spec.spec, Thousands(ingest_spec.ingest.vectors)),
                  Met(rate >= kIngestGoal)});
  }
  for (const SpecComparison& spec : specs) table.AddRow(SearchGoalRow(spec, config.k));
  if (restart) {
    table.AddRow({absl::StrFormat("restart to SERVING <= %.0f s", kRestartGoal),
                  absl::StrFormat("%.2f s (%s vectors, %s)", restart->restart_seconds,
                                  Thousands(restart->ingest.vectors), restart->spec),
                  Met(restart->restart_seconds <= kRestartGoal)});
  }
  return absl::StrCat("## Summary\n\n", table.Render(), "\n");
}

std::string IngestSection(const std::vector<SpecComparison>& specs,
                          const std::optional<RestartMeasurement>& restart) {
  MarkdownTable table({"index", "vectors", "requests", "seconds", "vectors/s", "Upsert p50 ms",
                       "Upsert p99 ms", "indexing after last reply (s)"});
  auto add = [&table](const std::string& spec, const IngestResult& ingest, double index_seconds) {
    table.AddRow({spec, Thousands(ingest.vectors), Thousands(ingest.requests),
                  absl::StrFormat("%.2f", ingest.seconds), Thousands(ingest.vectors_per_second),
                  absl::StrFormat("%.1f", ingest.p50_ms), absl::StrFormat("%.1f", ingest.p99_ms),
                  absl::StrFormat("%.1f", index_seconds)});
  };
  for (const SpecComparison& spec : specs) add(spec.spec, spec.ingest, spec.index_seconds);
  if (restart) add(restart->spec + " (restart set)", restart->ingest, restart->index_seconds);
  return absl::StrCat(
      "## Durable ingest\n\n", table.Render(),
      "\nThe last column is how long the shard took, after the final reply, to train (IVF) and "
      "move every buffered write into its ANN index; searches are exact over the buffer "
      "meanwhile.\n\n");
}

std::string SearchSection(const BenchConfig& config, const std::vector<SpecComparison>& specs) {
  MarkdownTable results({"index", "setting", "shard QPS", absl::StrCat("shard recall@", config.k),
                         "in-process QPS", absl::StrCat("in-process recall@", config.k),
                         "shard / in-process QPS", "CPU us/query: shard + client",
                         "CPU us/query: in process"});
  MarkdownTable indexes(
      {"index", "shard serves with", "shard index memory", "shard RSS", "in-process build (s)"});
  for (const SpecComparison& spec : specs) {
    for (const SettingComparison& s : spec.settings) {
      results.AddRow({spec.spec, s.setting.Describe(), Thousands(s.shard_qps),
                      absl::StrFormat("%.3f", s.shard_recall), Thousands(s.in_process_qps),
                      absl::StrFormat("%.3f", s.in_process_recall),
                      absl::StrFormat("%.2f", s.shard_qps / s.in_process_qps),
                      absl::StrFormat("%.0f + %.0f", s.shard_cpu_us, s.client_cpu_us),
                      absl::StrFormat("%.0f", s.in_process_cpu_us)});
    }
    indexes.AddRow({spec.spec, spec.index_type, Mebibytes(spec.index_memory_bytes),
                    Mebibytes(spec.resident_bytes),
                    absl::StrFormat("%.1f", spec.in_process_build_seconds)});
  }
  return absl::StrCat(
      "## Search\n\n", results.Render(),
      "\nCPU per query is the CPU time the shard process and the benchmark's own gRPC clients "
      "used during the measurement, divided by the queries answered; on a machine with few "
      "cores the two compete, so client cost lowers the shard's QPS too.\n\n",
      indexes.Render(), "\n");
}

std::string RestartSection(const RestartMeasurement& restart) {
  MarkdownTable table({"index", "vectors", "data on disk", "SIGTERM to exit (s)",
                       "start to SERVING (s)", "chunks after restart", "RSS after restart"});
  table.AddRow({restart.spec, Thousands(restart.ingest.vectors), Mebibytes(restart.disk_bytes),
                absl::StrFormat("%.2f", restart.stop_seconds),
                absl::StrFormat("%.2f", restart.restart_seconds), Thousands(restart.chunks_after),
                Mebibytes(restart.resident_bytes)});
  return absl::StrCat("## Restart\n\n", table.Render(),
                      "\nSIGTERM drains the shard and writes its index snapshot; the restart is "
                      "timed from spawning the process until grpc.health.v1 answers SERVING.\n");
}

}  // namespace

std::string RenderReport(const BenchConfig& config, const RunDescription& run,
                         const std::vector<SpecComparison>& specs,
                         const std::optional<RestartMeasurement>& restart) {
  std::string report =
      absl::StrCat(SetupSection(config, run), SummarySection(config, specs, restart),
                   IngestSection(specs, restart), SearchSection(config, specs));
  if (restart) absl::StrAppend(&report, RestartSection(*restart));
  return report;
}

}  // namespace quarry::bench
