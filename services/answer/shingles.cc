#include "services/answer/shingles.h"

#include <xxhash.h>

#include <algorithm>
#include <string>

#include "services/answer/text_units.h"

namespace quarry::answer {
namespace {

size_t IntersectionSize(const ShingleSet& a, const ShingleSet& b) {
  size_t common = 0;
  auto i = a.begin();
  auto j = b.begin();
  while (i != a.end() && j != b.end()) {
    if (*i < *j) {
      ++i;
    } else if (*j < *i) {
      ++j;
    } else {
      ++common;
      ++i;
      ++j;
    }
  }
  return common;
}

}  // namespace

ShingleSet MakeShingles(absl::string_view text) {
  const std::vector<std::string> units = TextUnits(text);
  ShingleSet shingles;
  if (units.empty()) return shingles;

  const size_t width = std::min<size_t>(kShingleUnits, units.size());
  shingles.reserve(units.size() - width + 1);
  std::string joined;
  for (size_t start = 0; start + width <= units.size(); ++start) {
    joined.clear();
    for (size_t i = start; i < start + width; ++i) {
      joined += units[i];
      joined += '\x1f';  // a separator no unit contains
    }
    shingles.push_back(XXH3_64bits(joined.data(), joined.size()));
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

}  // namespace quarry::answer
