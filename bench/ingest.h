// Durable ingest into a shard: the base set sent as Upsert requests of whole documents from a
// few concurrent client threads, each with its own connection, as a bulk loader would. The
// shard acknowledges an Upsert only once it is synced to its write-ahead log, so the rate
// measured is of durable writes.
#ifndef QUARRY_BENCH_INGEST_H_
#define QUARRY_BENCH_INGEST_H_

#include <cstddef>

#include "absl/status/statusor.h"
#include "bench/clustered_vectors.h"
#include "bench/corpus_layout.h"
#include "bench/shard_process.h"

namespace quarry::bench {

struct IngestOptions {
  int threads = 4;
  int documents_per_request = 32;  // each of layout.chunks_per_document() chunks
  int text_bytes = 0;              // synthetic passage text per chunk
};

struct IngestResult {
  size_t vectors = 0;
  size_t requests = 0;
  double seconds = 0;  // first request sent to last reply received
  double vectors_per_second = 0;
  double p50_ms = 0;  // Upsert latency
  double p99_ms = 0;
};

// Upserts every row of `base` as laid out by `layout`. Fails on the first rejected request.
absl::StatusOr<IngestResult> IngestVectors(const ShardProcess& shard, const VectorSet& base,
                                           const CorpusLayout& layout,
                                           const IngestOptions& options);

}  // namespace quarry::bench

#endif  // QUARRY_BENCH_INGEST_H_
