// Placement: which shard a document lives on.
//
// A jump consistent hash (Lamping and Veach) of XXH3(tenant, document id): every chunk of a
// document lands on one shard, re-sending a document lands where it was, and growing the
// cluster from n to n+1 shards would move only 1/(n+1) of the documents.
#ifndef QUARRY_ROUTER_PLACEMENT_H_
#define QUARRY_ROUTER_PLACEMENT_H_

#include <cstdint>

#include "absl/strings/string_view.h"

namespace quarry::router {

// The shard in [0, shard_count) of the document. REQUIRES: shard_count > 0.
uint32_t PlaceDocument(absl::string_view tenant, absl::string_view doc_id, uint32_t shard_count);

}  // namespace quarry::router

#endif  // QUARRY_ROUTER_PLACEMENT_H_
