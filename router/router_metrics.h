// What the router records for Prometheus, per shard where it matters (the shard's number is a
// bounded label: the topology fixes how many there are):
//
//   quarry_router_shard_search_seconds{shard}      time a shard took to answer a fanned-out
//                                                  search, hedges included (histogram)
//   quarry_router_hedges_total{shard}              second requests sent to a slow shard
//   quarry_router_hedges_won_total{shard}          ... that answered first
//   quarry_router_shard_errors_total{shard}        shards that did not answer a search
//   quarry_router_partial_results_total            searches answered without every shard
//   quarry_router_replica_ejections_total{shard}   replicas taken out after repeated errors
//   quarry_router_ingest_documents_total, quarry_router_ingest_bytes_total
//
// Thread-safe.
#ifndef QUARRY_ROUTER_ROUTER_METRICS_H_
#define QUARRY_ROUTER_ROUTER_METRICS_H_

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <cstdint>
#include <vector>

namespace quarry::router {

class RouterMetrics {
 public:
  // Registers the families in `registry` (which must outlive this object) for `shards` shards.
  RouterMetrics(prometheus::Registry& registry, uint32_t shards);

  // One shard's part of a search. REQUIRES: shard < the shard count (for every method).
  void ShardSearched(uint32_t shard, bool answered, double seconds, bool hedged, bool hedge_won);
  void PartialResult() { partial_results_.Increment(); }
  void ReplicaEjected(uint32_t shard) { per_shard_[shard].ejections->Increment(); }
  void Ingested(uint64_t documents, uint64_t bytes);

 private:
  struct PerShard {
    prometheus::Histogram* search_seconds;
    prometheus::Counter* hedges;
    prometheus::Counter* hedges_won;
    prometheus::Counter* errors;
    prometheus::Counter* ejections;
  };

  std::vector<PerShard> per_shard_;
  prometheus::Counter& partial_results_;
  prometheus::Counter& ingest_documents_;
  prometheus::Counter& ingest_bytes_;
};

}  // namespace quarry::router

#endif  // QUARRY_ROUTER_ROUTER_METRICS_H_
