#include "shard/chunk_id.h"

#include <xxhash.h>

#include <string>

namespace quarry::shard {
namespace {

void AppendLengthPrefixed(std::string& out, absl::string_view field) {
  uint64_t size = field.size();
  out.append(reinterpret_cast<const char*>(&size), sizeof(size));
  out.append(field.data(), field.size());
}

}  // namespace

uint64_t ChunkIdFor(absl::string_view tenant, absl::string_view doc_id, uint32_t ordinal) {
  // Length prefixes keep ("ab", "c") and ("a", "bc") apart.
  std::string key;
  key.reserve(tenant.size() + doc_id.size() + 20);
  AppendLengthPrefixed(key, tenant);
  AppendLengthPrefixed(key, doc_id);
  key.append(reinterpret_cast<const char*>(&ordinal), sizeof(ordinal));

  uint64_t id = XXH3_64bits(key.data(), key.size()) & ((uint64_t{1} << 63) - 1);
  return id == 0 ? 1 : id;
}

}  // namespace quarry::shard
