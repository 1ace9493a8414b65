#include "bench/restart_measurement.h"

#include <chrono>
#include <filesystem>
#include <memory>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "bench/loaded_shard.h"
#include "bench/progress.h"
#include "bench/shard_process.h"

namespace quarry::bench {
namespace {

using Clock = std::chrono::steady_clock;
using Seconds = std::chrono::duration<double>;

constexpr Seconds kStartTimeout{600};
constexpr Seconds kStopTimeout{600};

uint64_t DirectoryBytes(const std::string& path) {
  uint64_t bytes = 0;
  std::error_code error;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(path, error)) {
    if (entry.is_regular_file(error)) bytes += entry.file_size(error);
  }
  return bytes;
}

}  // namespace

absl::StatusOr<RestartMeasurement> MeasureRestart(const BenchConfig& config,
                                                  const std::string& spec,
                                                  const VectorSet& vectors) {
  RestartMeasurement result;
  result.spec = spec;
  const ShardLaunchOptions launch =
      LaunchOptionsFor(config, spec, absl::StrCat(config.run_dir, "/restart"));

  // Load, then stop cleanly so that the shard writes its snapshot.
  {
    absl::StatusOr<LoadedShard> shard = StartLoadedShard(config, launch, vectors);
    if (!shard.ok()) return shard.status();
    result.ingest = shard->ingest;
    result.index_seconds = shard->index_seconds;

    const Clock::time_point stopping = Clock::now();
    absl::Status status = shard->process->Stop(kStopTimeout);
    if (!status.ok()) return status;
    result.stop_seconds = Seconds(Clock::now() - stopping).count();
  }
  result.disk_bytes = DirectoryBytes(launch.data_dir);

  ReportProgress("restart: starting the shard again");
  absl::StatusOr<std::unique_ptr<ShardProcess>> shard = ShardProcess::Start(launch, kStartTimeout);
  if (!shard.ok()) return shard.status();
  absl::Status status = (*shard)->WaitUntilServing(kStartTimeout);
  if (!status.ok()) return status;
  result.restart_seconds = Seconds(Clock::now() - (*shard)->started()).count();
  absl::StatusOr<v1::StatsResponse> stats = (*shard)->Stats();
  if (!stats.ok()) return stats.status();
  result.chunks_after = stats->chunks();
  result.resident_bytes = (*shard)->ResidentBytes().value_or(0);
  ReportProgress(absl::StrFormat("restart: SERVING after %.2fs with %d chunks",
                                 result.restart_seconds, result.chunks_after));
  status = (*shard)->Stop(kStopTimeout);
  if (!status.ok()) return status;

  std::error_code ignored;
  std::filesystem::remove_all(launch.data_dir, ignored);
  return result;
}

}  // namespace quarry::bench
