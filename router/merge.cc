#include "router/merge.h"

#include <algorithm>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"

namespace quarry::router {

std::vector<v1::Hit> MergeTopK(std::vector<std::vector<v1::Hit>> shard_hits, size_t k,
                               size_t max_per_document) {
  std::vector<v1::Hit> all;
  for (std::vector<v1::Hit>& hits : shard_hits) {
    for (v1::Hit& hit : hits) all.push_back(std::move(hit));
  }
  std::sort(all.begin(), all.end(), [](const v1::Hit& a, const v1::Hit& b) {
    if (a.score() != b.score()) return a.score() > b.score();
    return a.chunk_id() < b.chunk_id();
  });

  std::vector<v1::Hit> merged;
  merged.reserve(std::min(k, all.size()));
  absl::flat_hash_set<uint64_t> chunks;
  absl::flat_hash_map<std::string, size_t> per_document;
  for (v1::Hit& hit : all) {
    if (merged.size() == k) break;
    if (!chunks.insert(hit.chunk_id()).second) continue;
    if (max_per_document > 0) {
      size_t& taken = per_document[hit.tenant() + '\0' + hit.doc_id()];
      if (taken == max_per_document) continue;
      ++taken;
    }
    merged.push_back(std::move(hit));
  }
  return merged;
}

}  // namespace quarry::router
