#include "router/placement.h"

#include <xxhash.h>

#include <string>

namespace quarry::router {
namespace {

// Jump consistent hash: maps a key to a bucket in [0, buckets) so that adding a bucket moves
// the fewest keys.
uint32_t JumpHash(uint64_t key, uint32_t buckets) {
  int64_t bucket = -1;
  int64_t next = 0;
  while (next < buckets) {
    bucket = next;
    key = key * 2862933555777941757ULL + 1;
    next = static_cast<int64_t>(
        (bucket + 1) * (static_cast<double>(1LL << 31) / static_cast<double>((key >> 33) + 1)));
  }
  return static_cast<uint32_t>(bucket);
}

}  // namespace

uint32_t PlaceDocument(absl::string_view tenant, absl::string_view doc_id, uint32_t shard_count) {
  // Tenants never hold NUL, so it separates the two without ambiguity.
  std::string key;
  key.reserve(tenant.size() + 1 + doc_id.size());
  key.append(tenant.data(), tenant.size());
  key.push_back('\0');
  key.append(doc_id.data(), doc_id.size());
  return JumpHash(XXH3_64bits(key.data(), key.size()), shard_count);
}

}  // namespace quarry::router
