#include "bench/loaded_shard.h"

#include <chrono>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "bench/progress.h"

namespace quarry::bench {
namespace {

using Clock = std::chrono::steady_clock;
using Seconds = std::chrono::duration<double>;

// Generous: a large shard may rebuild its index from the database when it starts.
constexpr Seconds kStartTimeout{600};

}  // namespace

ShardLaunchOptions LaunchOptionsFor(const BenchConfig& config, const std::string& spec,
                                    const std::string& data_dir) {
  ShardLaunchOptions launch;
  launch.binary = config.quarry_binary;
  launch.data_dir = data_dir;
  launch.index_spec = spec;
  launch.dimension = config.dimension;
  launch.train_min = config.train_min;
  return launch;
}

absl::StatusOr<LoadedShard> StartLoadedShard(const BenchConfig& config,
                                             const ShardLaunchOptions& launch,
                                             const VectorSet& vectors) {
  LoadedShard loaded;
  absl::StatusOr<std::unique_ptr<ShardProcess>> process =
      ShardProcess::Start(launch, kStartTimeout);
  if (!process.ok()) return process.status();
  loaded.process = *std::move(process);
  absl::Status status = loaded.process->WaitUntilServing(kStartTimeout);
  if (!status.ok()) return status;

  ReportProgress(absl::StrFormat("%s: ingesting %d vectors", launch.index_spec, vectors.count));
  absl::StatusOr<IngestResult> ingest =
      IngestVectors(*loaded.process, vectors, config.layout, config.ingest);
  if (!ingest.ok()) return ingest.status();
  loaded.ingest = *ingest;
  ReportProgress(absl::StrFormat("%s: %.0f vectors/s; waiting for the index", launch.index_spec,
                                 ingest->vectors_per_second));

  const Clock::time_point ingested = Clock::now();
  absl::StatusOr<v1::StatsResponse> stats =
      loaded.process->WaitUntilIndexed(vectors.count, config.index_timeout);
  if (!stats.ok()) return stats.status();
  loaded.index_seconds = Seconds(Clock::now() - ingested).count();
  loaded.stats = *std::move(stats);
  return loaded;
}

// A search function that asks the shard; worker i uses stubs[i].
SearchFunction ShardSearchFunction(const std::vector<std::unique_ptr<v1::Shard::Stub>>& stubs,
                                   const BenchConfig& config, const SearchSetting& setting) {
  return [&stubs, &config, setting](int worker, const float* query,
                                    int64_t* labels) -> absl::Status {
    v1::SearchRequest request;
    request.mutable_vector()->Add(query, query + config.dimension);
    request.set_k(config.k);
    request.mutable_principal()->set_tenant(config.layout.tenant());
    request.mutable_params()->set_nprobe(setting.nprobe);
    request.mutable_params()->set_ef_search(setting.ef_search);
    v1::SearchResponse response;
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    grpc::Status status = stubs[worker]->Search(&context, request, &response);
    if (!status.ok()) {
      return absl::InternalError(absl::StrCat("Search failed: ", status.error_message()));
    }
    for (int i = 0; i < config.k; ++i) {
      labels[i] = i < response.hits_size()
                      ? config.layout.RowOf(response.hits(i).doc_id(), response.hits(i).ordinal())
                      : -1;
    }
    return absl::OkStatus();
  };
}

}  // namespace quarry::bench
