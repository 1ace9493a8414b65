#include "services/answer/shingles.h"

#include <xxhash.h>

#include <algorithm>

#include "services/answer/text_units.h"

namespace quarry::answer {
namespace {

// A merge of the two sorted sets without branches on the comparisons, which on hashes are
// unpredictable: MMR takes this over every pair of candidates.
size_t IntersectionSize(const ShingleSet& a, const ShingleSet& b) {
  size_t common = 0;
  size_t i = 0;
  size_t j = 0;
  while (i < a.size() && j < b.size()) {
    const uint64_t x = a[i];
    const uint64_t y = b[j];
    common += x == y;
    i += x <= y;
    j += y <= x;
  }
  return common;
}

}  // namespace

ShingleSet MakeShingles(absl::string_view text) {
  const std::vector<uint64_t> units = TextUnitHashes(text);
  ShingleSet shingles;
  if (units.empty()) return shingles;

  const size_t width = std::min<size_t>(kShingleUnits, units.size());
  shingles.reserve(units.size() - width + 1);
  for (size_t start = 0; start + width <= units.size(); ++start) {
    shingles.push_back(XXH3_64bits(&units[start], width * sizeof(uint64_t)));
  }
  std::sort(shingles.begin(), shingles.end());
  shingles.erase(std::unique(shingles.begin(), shingles.end()), shingles.end());
  return shingles;
}

double ShingleOverlap(const ShingleSet& a, const ShingleSet& b) {
  if (a.empty() || b.empty()) return 0;
  return static_cast<double>(IntersectionSize(a, b)) / std::min(a.size(), b.size());
}

double ShingleJaccard(const ShingleSet& a, const ShingleSet& b) {
  const size_t common = IntersectionSize(a, b);
  const size_t total = a.size() + b.size() - common;
  return total == 0 ? 0 : static_cast<double>(common) / total;
}

void ShingleIndex::Add(const ShingleSet& set) {
  const auto position = static_cast<uint32_t>(sizes_.size());
  sizes_.push_back(set.size());
  for (uint64_t shingle : set) positions_[shingle].push_back(position);
}

std::optional<size_t> ShingleIndex::FindOverlapping(const ShingleSet& set, double threshold) const {
  if (set.empty() || sizes_.empty()) return std::nullopt;
  std::vector<uint32_t> common(sizes_.size(), 0);
  for (uint64_t shingle : set) {
    const auto it = positions_.find(shingle);
    if (it == positions_.end()) continue;
    for (uint32_t position : it->second) ++common[position];
  }
  for (size_t position = 0; position < sizes_.size(); ++position) {
    if (sizes_[position] == 0) continue;
    const double overlap =
        static_cast<double>(common[position]) / std::min(set.size(), sizes_[position]);
    if (overlap >= threshold) return position;
  }
  return std::nullopt;
}

}  // namespace quarry::answer
