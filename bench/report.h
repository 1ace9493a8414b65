// The benchmark's findings as a Markdown document: how the run was set up, a summary against
// the project's goals, then ingest, search and restart in detail.
#ifndef QUARRY_BENCH_REPORT_H_
#define QUARRY_BENCH_REPORT_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "bench/bench_config.h"
#include "bench/restart_measurement.h"
#include "bench/spec_comparison.h"

namespace quarry::bench {

// What the run was: the data and where it ran.
struct RunDescription {
  size_t base_vectors = 0;
  size_t queries = 0;
  int clusters = 0;
  float spread = 0;
  uint64_t seed = 0;
  double total_seconds = 0;
};

std::string RenderReport(const BenchConfig& config, const RunDescription& run,
                         const std::vector<SpecComparison>& specs,
                         const std::optional<RestartMeasurement>& restart);

}  // namespace quarry::bench

#endif  // QUARRY_BENCH_REPORT_H_
