#include "router/router_metrics.h"

#include <string>

namespace quarry::router {
namespace {

prometheus::Family<prometheus::Counter>& CounterFamily(prometheus::Registry& registry,
                                                       const char* name, const char* help) {
  return prometheus::BuildCounter().Name(name).Help(help).Register(registry);
}

}  // namespace

RouterMetrics::RouterMetrics(prometheus::Registry& registry, uint32_t shards)
    : partial_results_(CounterFamily(registry, "quarry_router_partial_results_total",
                                     "Searches answered without every shard")
                           .Add({})),
      ingest_documents_(CounterFamily(registry, "quarry_router_ingest_documents_total",
                                      "Documents written by Ingest")
                            .Add({})),
      ingest_bytes_(CounterFamily(registry, "quarry_router_ingest_bytes_total",
                                  "Bytes of document text written by Ingest")
                        .Add({})) {
  auto& search_seconds =
      prometheus::BuildHistogram()
          .Name("quarry_router_shard_search_seconds")
          .Help("Time a shard took to answer a fanned-out search, hedges included, in seconds")
          .Register(registry);
  auto& hedges = CounterFamily(registry, "quarry_router_hedges_total",
                               "Second requests sent to another replica of a slow shard");
  auto& hedges_won = CounterFamily(registry, "quarry_router_hedges_won_total",
                                   "Hedged requests that answered before the first one");
  auto& errors = CounterFamily(registry, "quarry_router_shard_errors_total",
                               "Shards that gave no answer to a search (down, failed, too slow)");
  auto& ejections = CounterFamily(registry, "quarry_router_replica_ejections_total",
                                  "Replicas taken out of rotation after repeated errors");
  prometheus::Histogram::BucketBoundaries bounds;
  for (double bound = 0.0002; bound < 20; bound *= 2) bounds.push_back(bound);
  for (uint32_t shard = 0; shard < shards; ++shard) {
    const prometheus::Labels labels = {{"shard", std::to_string(shard)}};
    per_shard_.push_back({&search_seconds.Add(labels, bounds), &hedges.Add(labels),
                          &hedges_won.Add(labels), &errors.Add(labels), &ejections.Add(labels)});
  }
}

void RouterMetrics::ShardSearched(uint32_t shard, bool answered, double seconds, bool hedged,
                                  bool hedge_won) {
  PerShard& metrics = per_shard_[shard];
  if (answered) {
    metrics.search_seconds->Observe(seconds);
  } else {
    metrics.errors->Increment();
  }
  if (hedged) metrics.hedges->Increment();
  if (hedge_won) metrics.hedges_won->Increment();
}

void RouterMetrics::Ingested(uint64_t documents, uint64_t bytes) {
  ingest_documents_.Increment(static_cast<double>(documents));
  ingest_bytes_.Increment(static_cast<double>(bytes));
}

}  // namespace quarry::router
