// A fresh shard started from the benchmark's configuration and loaded with a vector set, with
// the figures of the loading: the durable ingest rate and how long the shard then took to
// train and index everything it had acknowledged.
#ifndef QUARRY_BENCH_LOADED_SHARD_H_
#define QUARRY_BENCH_LOADED_SHARD_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "bench/bench_config.h"
#include "bench/clustered_vectors.h"
#include "bench/ingest.h"
#include "bench/search_load.h"
#include "bench/search_setting.h"
#include "bench/shard_process.h"
#include "quarry/v1/shard.grpc.pb.h"

namespace quarry::bench {

struct LoadedShard {
  std::unique_ptr<ShardProcess> process;
  IngestResult ingest;
  double index_seconds = 0;  // from the last Upsert reply until trained with nothing buffered
  v1::StatsResponse stats;   // once indexed
};

// How the benchmark starts a shard of `spec` keeping its data in `data_dir`.
ShardLaunchOptions LaunchOptionsFor(const BenchConfig& config, const std::string& spec,
                                    const std::string& data_dir);

// Starts a shard, waits until it serves, ingests `vectors` and waits until they are indexed.
absl::StatusOr<LoadedShard> StartLoadedShard(const BenchConfig& config,
                                             const ShardLaunchOptions& launch,
                                             const VectorSet& vectors);

// A search function for RunSearchLoad that asks the shard over gRPC with `setting`; worker i
// uses stubs[i]. Hits map back to base rows through config.layout.
SearchFunction ShardSearchFunction(const std::vector<std::unique_ptr<v1::Shard::Stub>>& stubs,
                                   const BenchConfig& config, const SearchSetting& setting);

}  // namespace quarry::bench

#endif  // QUARRY_BENCH_LOADED_SHARD_H_
