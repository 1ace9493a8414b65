// Restart time of a loaded shard: the vectors are ingested, the shard is stopped with SIGTERM
// (which drains and writes an index snapshot), and a new process is started on the same data
// and timed from spawn until its health check answers SERVING. Optionally the shard is then
// stopped again, its index snapshot removed, and the start timed once more: the shard must
// then rebuild its index from the database before it serves.
#ifndef QUARRY_BENCH_RESTART_MEASUREMENT_H_
#define QUARRY_BENCH_RESTART_MEASUREMENT_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "bench/bench_config.h"
#include "bench/clustered_vectors.h"
#include "bench/ingest.h"

namespace quarry::bench {

struct RestartMeasurement {
  std::string spec;
  IngestResult ingest;
  double index_seconds = 0;     // from the last Upsert reply until nothing is buffered
  uint64_t disk_bytes = 0;      // the data directory after the snapshot
  double stop_seconds = 0;      // SIGTERM until exit, snapshot included
  double restart_seconds = 0;   // spawn until SERVING
  uint64_t chunks_after = 0;    // what the restarted shard reports
  uint64_t resident_bytes = 0;  // of the restarted shard
  // Without the snapshot; zero when not measured.
  double restart_without_snapshot_seconds = 0;
  uint64_t chunks_after_without_snapshot = 0;
};

absl::StatusOr<RestartMeasurement> MeasureRestart(const BenchConfig& config,
                                                  const std::string& spec, const VectorSet& vectors,
                                                  bool also_without_snapshot = false);

}  // namespace quarry::bench

#endif  // QUARRY_BENCH_RESTART_MEASUREMENT_H_
