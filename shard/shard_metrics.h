// What a shard records for Prometheus as it works: the latency of index searches, labelled by
// the configured index spec, and the time index maintenance takes (train, rebuild, snapshot).
// Counts and sizes (documents, chunks, vectors, tombstones, RocksDB bytes) are not kept here:
// ShardValues reads them from the shard's stats at each scrape.
//
// Thread-safe.
#ifndef QUARRY_SHARD_SHARD_METRICS_H_
#define QUARRY_SHARD_SHARD_METRICS_H_

#include <prometheus/family.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <string>
#include <vector>

#include "quarry/v1/shard.pb.h"
#include "services/runtime/scraped_metrics.h"
#include "shard/vector_index.h"

namespace quarry::shard {

class ShardMetrics {
 public:
  // Registers the families in `registry`, which must outlive this object. `index_spec` labels
  // the search latency.
  ShardMetrics(prometheus::Registry& registry, const std::string& index_spec);

  void SearchDone(double seconds) { search_seconds_.Observe(seconds); }
  void IndexOperationDone(IndexOperation operation, double seconds);

 private:
  prometheus::Histogram& search_seconds_;
  prometheus::Histogram* operation_seconds_[3] = {};  // by IndexOperation
};

// The shard's counts and sizes as gauges: quarry_shard_documents, quarry_shard_chunks,
// quarry_shard_vectors{state="indexed"|"buffered"}, quarry_shard_tombstones,
// quarry_shard_index_memory_bytes, quarry_shard_rocksdb_live_bytes,
// quarry_shard_rocksdb_pending_compaction_bytes, quarry_shard_sequence and
// quarry_shard_snapshot_sequence. `stats` null (the shard is not open): only quarry_shard_ready 0.
std::vector<runtime::ScrapedValue> ShardValues(const v1::StatsResponse* stats);

}  // namespace quarry::shard

#endif  // QUARRY_SHARD_SHARD_METRICS_H_
