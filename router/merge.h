// The exact global top-k of the shards' answers.
#ifndef QUARRY_ROUTER_MERGE_H_
#define QUARRY_ROUTER_MERGE_H_

#include <vector>

#include "quarry/v1/types.pb.h"

namespace quarry::router {

// The best `k` hits of all `shard_hits` lists: by descending score, ties by ascending chunk
// id so that results are stable, a chunk at most once, and at most `max_per_document` hits of
// one document (0: no cap). Each shard's list is best-first and holds its own top-k, so the
// merge is exact.
std::vector<v1::Hit> MergeTopK(std::vector<std::vector<v1::Hit>> shard_hits, size_t k,
                               size_t max_per_document);

}  // namespace quarry::router

#endif  // QUARRY_ROUTER_MERGE_H_
