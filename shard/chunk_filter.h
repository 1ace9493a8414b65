// Who may see a chunk and which chunks a filter admits, evaluated on a compact in-memory copy
// of each chunk's attributes so that FAISS can ask about millions of candidates per second.
//
// StringPool interns the strings these attributes use (tenants, groups, document ids,
// metadata keys and values); ChunkAttrs refers to them by number; ChunkFilter is a principal
// plus a Filter compiled against one pool. None of them is thread-safe on its own: the owner
// (VectorIndex) guards them with its lock.
#ifndef QUARRY_SHARD_CHUNK_FILTER_H_
#define QUARRY_SHARD_CHUNK_FILTER_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/string_view.h"
#include "quarry/v1/types.pb.h"

namespace quarry::shard {

// Strings by number. Numbers are stable for the pool's lifetime; strings are never released.
class StringPool {
 public:
  uint32_t Intern(absl::string_view text);
  std::optional<uint32_t> Find(absl::string_view text) const;
  const std::string& Get(uint32_t id) const { return strings_[id]; }
  size_t size() const { return strings_.size(); }

 private:
  std::vector<std::string> strings_;
  absl::flat_hash_map<std::string, uint32_t> ids_;
};

struct MetadataAttr {
  uint32_t key = 0;
  bool is_number = false;
  uint32_t text = 0;  // when !is_number
  double number = 0;  // when is_number
};

// The attributes of one chunk that visibility and filters look at.
struct ChunkAttrs {
  uint32_t tenant = 0;
  uint32_t doc = 0;
  uint32_t ordinal = 0;
  std::vector<uint32_t> groups;  // sorted; empty means the whole tenant may see it
  std::vector<MetadataAttr> metadata;
};

// Copies a chunk's attributes, interning their strings in `pool`.
ChunkAttrs MakeChunkAttrs(absl::string_view tenant, absl::string_view doc_id, uint32_t ordinal,
                          const google::protobuf::RepeatedPtrField<std::string>& groups,
                          const google::protobuf::Map<std::string, v1::MetadataValue>& metadata,
                          StringPool& pool);
inline ChunkAttrs MakeChunkAttrs(const v1::Chunk& chunk, StringPool& pool) {
  return MakeChunkAttrs(chunk.tenant(), chunk.doc_id(), chunk.ordinal(), chunk.acl_groups(),
                        chunk.metadata(), pool);
}

// True when `principal` may see `chunk`: the tenant matches and the chunk has no ACL groups
// or shares one with the principal.
bool IsVisible(const v1::Chunk& chunk, const v1::Principal& principal);

// A principal and a filter, resolved against a pool. Strings the pool has never seen cannot
// match any chunk, so such conditions make the whole filter match nothing.
class ChunkFilter {
 public:
  ChunkFilter(const v1::Principal& principal, const v1::Filter& filter, const StringPool& pool);

  // True when the chunk is visible to the principal and meets every condition.
  bool Matches(const ChunkAttrs& attrs) const;

  // True when no chunk of the pool can match; searches can stop at once.
  bool matches_nothing() const { return matches_nothing_; }

  // True when the filter has conditions beyond tenant and groups.
  bool has_conditions() const { return has_conditions_; }

 private:
  struct ValueSet {
    uint32_t key;
    std::vector<uint32_t> values;  // sorted
  };
  struct Range {
    uint32_t key;
    double min;
    double max;
  };

  bool matches_nothing_ = false;
  bool has_conditions_ = false;
  uint32_t tenant_ = 0;
  std::vector<uint32_t> groups_;  // sorted
  std::vector<ValueSet> values_;
  std::vector<Range> ranges_;
  std::optional<absl::flat_hash_set<uint32_t>> docs_;
};

}  // namespace quarry::shard

#endif  // QUARRY_SHARD_CHUNK_FILTER_H_
