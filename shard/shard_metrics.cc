#include "shard/shard_metrics.h"

namespace quarry::shard {
namespace {

// Doubling from `first` seconds, `count` buckets.
prometheus::Histogram::BucketBoundaries Doubling(double first, int count) {
  prometheus::Histogram::BucketBoundaries bounds;
  for (double bound = first; count-- > 0; bound *= 2) bounds.push_back(bound);
  return bounds;
}

}  // namespace

ShardMetrics::ShardMetrics(prometheus::Registry& registry, const std::string& index_spec)
    : search_seconds_(prometheus::BuildHistogram()
                          .Name("quarry_shard_search_seconds")
                          .Help("Time to search the shard's index for one query, in seconds")
                          .Register(registry)
                          .Add({{"index_type", index_spec}}, Doubling(0.00005, 18))) {
  auto& operations = prometheus::BuildHistogram()
                         .Name("quarry_shard_index_operation_seconds")
                         .Help("Time index maintenance took (train, rebuild, snapshot), in seconds")
                         .Register(registry);
  for (IndexOperation operation :
       {IndexOperation::kTrain, IndexOperation::kRebuild, IndexOperation::kSnapshot}) {
    operation_seconds_[static_cast<int>(operation)] = &operations.Add(
        {{"operation", std::string(IndexOperationName(operation))}}, Doubling(0.01, 16));
  }
}

void ShardMetrics::IndexOperationDone(IndexOperation operation, double seconds) {
  operation_seconds_[static_cast<int>(operation)]->Observe(seconds);
}

std::vector<runtime::ScrapedValue> ShardValues(const v1::StatsResponse* stats) {
  std::vector<runtime::ScrapedValue> values;
  values.push_back({"quarry_shard_ready",
                    "1 once the shard has opened its index and serves",
                    prometheus::MetricType::Gauge,
                    {},
                    stats != nullptr ? 1.0 : 0.0});
  if (stats == nullptr) return values;
  auto gauge = [&](const char* name, const char* help, double value,
                   prometheus::Labels labels = {}) {
    values.push_back({name, help, prometheus::MetricType::Gauge, std::move(labels), value});
  };
  gauge("quarry_shard_documents", "Documents stored", stats->documents());
  gauge("quarry_shard_chunks", "Chunks stored", stats->chunks());
  const char* vectors_help = "Vectors in the ANN index (tombstones included) or the fresh buffer";
  gauge("quarry_shard_vectors", vectors_help, stats->vectors_indexed(), {{"state", "indexed"}});
  gauge("quarry_shard_vectors", vectors_help, stats->vectors_buffered(), {{"state", "buffered"}});
  gauge("quarry_shard_tombstones", "Deleted vectors still in the ANN index", stats->tombstones());
  gauge("quarry_shard_index_memory_bytes", "Memory the index holds, in bytes",
        stats->index_memory_bytes());
  gauge("quarry_shard_rocksdb_live_bytes", "RocksDB live data: SST files and memtables, in bytes",
        stats->disk_bytes());
  gauge("quarry_shard_rocksdb_pending_compaction_bytes",
        "Bytes RocksDB estimates compaction must rewrite", stats->pending_compaction_bytes());
  gauge("quarry_shard_sequence", "Sequence number of the last durable write", stats->sequence());
  gauge("quarry_shard_snapshot_sequence", "Writes covered by the newest index snapshot",
        stats->snapshot_sequence());
  return values;
}

}  // namespace quarry::shard
