#include "shard/chunk_filter.h"

#include <algorithm>
#include <limits>

namespace quarry::shard {
namespace {

bool SortedIntersect(const std::vector<uint32_t>& a, const std::vector<uint32_t>& b) {
  auto i = a.begin();
  auto j = b.begin();
  while (i != a.end() && j != b.end()) {
    if (*i == *j) return true;
    if (*i < *j) {
      ++i;
    } else {
      ++j;
    }
  }
  return false;
}

void SortUnique(std::vector<uint32_t>& values) {
  std::sort(values.begin(), values.end());
  values.erase(std::unique(values.begin(), values.end()), values.end());
}

}  // namespace

uint32_t StringPool::Intern(absl::string_view text) {
  auto it = ids_.find(text);
  if (it != ids_.end()) return it->second;
  uint32_t id = static_cast<uint32_t>(strings_.size());
  strings_.emplace_back(text);
  ids_.emplace(strings_.back(), id);
  return id;
}

std::optional<uint32_t> StringPool::Find(absl::string_view text) const {
  auto it = ids_.find(text);
  if (it == ids_.end()) return std::nullopt;
  return it->second;
}

ChunkAttrs MakeChunkAttrs(absl::string_view tenant, absl::string_view doc_id, uint32_t ordinal,
                          const google::protobuf::RepeatedPtrField<std::string>& groups,
                          const google::protobuf::Map<std::string, v1::MetadataValue>& metadata,
                          StringPool& pool) {
  ChunkAttrs attrs;
  attrs.tenant = pool.Intern(tenant);
  attrs.doc = pool.Intern(doc_id);
  attrs.ordinal = ordinal;
  attrs.groups.reserve(groups.size());
  for (const std::string& group : groups) attrs.groups.push_back(pool.Intern(group));
  SortUnique(attrs.groups);
  attrs.metadata.reserve(metadata.size());
  for (const auto& [key, value] : metadata) {
    MetadataAttr attr;
    attr.key = pool.Intern(key);
    if (value.kind_case() == v1::MetadataValue::kNumber) {
      attr.is_number = true;
      attr.number = value.number();
    } else {
      attr.text = pool.Intern(value.text());
    }
    attrs.metadata.push_back(attr);
  }
  return attrs;
}

bool IsVisible(const v1::Chunk& chunk, const v1::Principal& principal) {
  if (chunk.tenant() != principal.tenant()) return false;
  if (chunk.acl_groups().empty()) return true;
  for (const std::string& group : chunk.acl_groups()) {
    if (std::find(principal.groups().begin(), principal.groups().end(), group) !=
        principal.groups().end()) {
      return true;
    }
  }
  return false;
}

ChunkFilter::ChunkFilter(const v1::Principal& principal, const v1::Filter& filter,
                         const StringPool& pool) {
  std::optional<uint32_t> tenant = pool.Find(principal.tenant());
  if (!tenant) {
    matches_nothing_ = true;
    return;
  }
  tenant_ = *tenant;
  for (const std::string& group : principal.groups()) {
    if (std::optional<uint32_t> id = pool.Find(group)) groups_.push_back(*id);
  }
  SortUnique(groups_);

  for (const v1::MetadataMatch& match : filter.metadata()) {
    has_conditions_ = true;
    std::optional<uint32_t> key = pool.Find(match.key());
    ValueSet set{key.value_or(0), {}};
    for (const std::string& value : match.values()) {
      if (std::optional<uint32_t> id = pool.Find(value)) set.values.push_back(*id);
    }
    if (!key || set.values.empty()) {
      matches_nothing_ = true;
      return;
    }
    SortUnique(set.values);
    values_.push_back(std::move(set));
  }
  for (const v1::NumericRange& range : filter.ranges()) {
    has_conditions_ = true;
    std::optional<uint32_t> key = pool.Find(range.key());
    if (!key) {
      matches_nothing_ = true;
      return;
    }
    ranges_.push_back({*key,
                       range.has_min() ? range.min() : -std::numeric_limits<double>::infinity(),
                       range.has_max() ? range.max() : std::numeric_limits<double>::infinity()});
  }
  if (!filter.doc_ids().empty()) {
    has_conditions_ = true;
    docs_.emplace();
    for (const std::string& doc : filter.doc_ids()) {
      if (std::optional<uint32_t> id = pool.Find(doc)) docs_->insert(*id);
    }
    if (docs_->empty()) matches_nothing_ = true;
  }
}

bool ChunkFilter::Matches(const ChunkAttrs& attrs) const {
  if (attrs.tenant != tenant_) return false;
  if (!attrs.groups.empty() && !SortedIntersect(attrs.groups, groups_)) return false;
  if (docs_ && !docs_->contains(attrs.doc)) return false;

  for (const ValueSet& set : values_) {
    bool found = false;
    for (const MetadataAttr& attr : attrs.metadata) {
      if (attr.key == set.key && !attr.is_number &&
          std::binary_search(set.values.begin(), set.values.end(), attr.text)) {
        found = true;
        break;
      }
    }
    if (!found) return false;
  }
  for (const Range& range : ranges_) {
    bool found = false;
    for (const MetadataAttr& attr : attrs.metadata) {
      if (attr.key == range.key && attr.is_number && attr.number >= range.min &&
          attr.number <= range.max) {
        found = true;
        break;
      }
    }
    if (!found) return false;
  }
  return true;
}

}  // namespace quarry::shard
