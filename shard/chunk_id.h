// Chunk ids: 63-bit values derived from (tenant, document id, ordinal), so that re-sending a
// document yields the same ids and every replica agrees on them without coordination.
#ifndef QUARRY_SHARD_CHUNK_ID_H_
#define QUARRY_SHARD_CHUNK_ID_H_

#include <cstdint>

#include "absl/strings/string_view.h"

namespace quarry::shard {

// The id of chunk `ordinal` of document `doc_id` of `tenant`. Never 0, always below 2^63 so
// it fits FAISS's signed labels and every language's signed 64-bit integers.
uint64_t ChunkIdFor(absl::string_view tenant, absl::string_view doc_id, uint32_t ordinal);

}  // namespace quarry::shard

#endif  // QUARRY_SHARD_CHUNK_ID_H_
