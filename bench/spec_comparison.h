// One index spec measured end to end: a fresh shard is started with it, loaded with the base
// set (timing durable ingest), left to train and index, then searched at each setting; the
// same spec is then built in this process and searched the same way as the baseline.
#ifndef QUARRY_BENCH_SPEC_COMPARISON_H_
#define QUARRY_BENCH_SPEC_COMPARISON_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "bench/bench_config.h"
#include "bench/clustered_vectors.h"
#include "bench/ingest.h"
#include "bench/search_setting.h"

namespace quarry::bench {

// QPS, recall@k and CPU cost of the shard and of in-process FAISS at one setting.
struct SettingComparison {
  SearchSetting setting;
  double shard_qps = 0;
  double shard_recall = 0;
  double shard_cpu_us = 0;   // CPU microseconds per query in the shard process
  double client_cpu_us = 0;  // ... and in the benchmark's gRPC clients
  double in_process_qps = 0;
  double in_process_recall = 0;
  double in_process_cpu_us = 0;
};

struct SpecComparison {
  std::string spec;
  IngestResult ingest;
  double index_seconds = 0;  // from the last Upsert reply until trained with nothing buffered
  std::string index_type;    // what the shard served with, from Stats
  uint64_t index_memory_bytes = 0;
  uint64_t resident_bytes = 0;  // the shard process, after indexing
  double in_process_build_seconds = 0;
  std::vector<SettingComparison> settings;
};

// `exact` holds the true k nearest rows of `base` for every query.
absl::StatusOr<SpecComparison> CompareSpec(const BenchConfig& config, const std::string& spec,
                                           const std::vector<SearchSetting>& settings,
                                           const VectorSet& base, const VectorSet& queries,
                                           const std::vector<int64_t>& exact);

}  // namespace quarry::bench

#endif  // QUARRY_BENCH_SPEC_COMPARISON_H_
