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

// What one start of an existing shard took.
struct TimedStart {
  double seconds = 0;  // spawn until SERVING
  uint64_t chunks = 0;
  uint64_t resident_bytes = 0;
};

// Starts the shard on its existing data, times it to SERVING, and stops it again (which
// writes a fresh snapshot).
absl::StatusOr<TimedStart> TimeStart(const ShardLaunchOptions& launch) {
  absl::StatusOr<std::unique_ptr<ShardProcess>> shard = ShardProcess::Start(launch, kStartTimeout);
  if (!shard.ok()) return shard.status();
  absl::Status status = (*shard)->WaitUntilServing(kStartTimeout);
  if (!status.ok()) return status;
  TimedStart start;
  start.seconds = Seconds(Clock::now() - (*shard)->started()).count();
  absl::StatusOr<v1::StatsResponse> stats = (*shard)->Stats();
  if (!stats.ok()) return stats.status();
  start.chunks = stats->chunks();
  start.resident_bytes = (*shard)->ResidentBytes().value_or(0);
  ReportProgress(
      absl::StrFormat("restart: SERVING after %.2fs with %d chunks", start.seconds, start.chunks));
  status = (*shard)->Stop(kStopTimeout);
  if (!status.ok()) return status;
  return start;
}

}  // namespace

absl::StatusOr<RestartMeasurement> MeasureRestart(const BenchConfig& config,
                                                  const std::string& spec, const VectorSet& vectors,
                                                  bool also_without_snapshot) {
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
  absl::StatusOr<TimedStart> with_snapshot = TimeStart(launch);
  if (!with_snapshot.ok()) return with_snapshot.status();
  result.restart_seconds = with_snapshot->seconds;
  result.chunks_after = with_snapshot->chunks;
  result.resident_bytes = with_snapshot->resident_bytes;

  if (also_without_snapshot) {
    ReportProgress("restart: removing the index snapshot and starting the shard again");
    std::error_code error;
    std::filesystem::remove_all(std::filesystem::path(launch.data_dir) / "index", error);
    if (error)
      return absl::InternalError(absl::StrCat("cannot remove the snapshot: ", error.message()));
    absl::StatusOr<TimedStart> without_snapshot = TimeStart(launch);
    if (!without_snapshot.ok()) return without_snapshot.status();
    result.restart_without_snapshot_seconds = without_snapshot->seconds;
    result.chunks_after_without_snapshot = without_snapshot->chunks;
  }

  std::error_code ignored;
  std::filesystem::remove_all(launch.data_dir, ignored);
  return result;
}

}  // namespace quarry::bench
