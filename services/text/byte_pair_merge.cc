#include "services/text/byte_pair_merge.h"

#include <queue>
#include <utility>

#include "absl/container/inlined_vector.h"

namespace quarry::text {

constexpr uint32_t kNoRank = RankTable::kNoRank;

void BytePairEncodeByScan(absl::string_view piece, const RankTable& ranks,
                          std::vector<uint32_t>* ids) {
  // parts[i] is where part i starts, its rank, and the rank of part i joined with part i + 1;
  // the last entry only marks the end of the piece.
  struct Part {
    uint32_t start;
    uint32_t rank;
    uint32_t pair_rank;
  };
  absl::InlinedVector<Part, kLongPieceBytes + 1> parts;
  parts.reserve(piece.size() + 1);
  for (uint32_t i = 0; i < piece.size(); ++i) {
    const uint32_t pair_rank = i + 1 < piece.size() ? ranks.Find(piece.substr(i, 2)) : kNoRank;
    parts.push_back({i, ranks.Find(piece.substr(i, 1)), pair_rank});
  }
  parts.push_back({static_cast<uint32_t>(piece.size()), kNoRank, kNoRank});

  // The rank of parts i and i + 1 joined, as if part i + 1 were already merged into part i.
  const auto rank_after_merge = [&](size_t i) {
    if (i + 3 >= parts.size()) return kNoRank;
    return ranks.Find(piece.substr(parts[i].start, parts[i + 3].start - parts[i].start));
  };

  while (parts.size() > 2) {
    size_t lowest = 0;
    for (size_t i = 1; i + 2 < parts.size(); ++i) {
      if (parts[i].pair_rank < parts[lowest].pair_rank) lowest = i;
    }
    if (parts[lowest].pair_rank == kNoRank) break;

    parts[lowest].rank = parts[lowest].pair_rank;
    if (lowest > 0) parts[lowest - 1].pair_rank = rank_after_merge(lowest - 1);
    parts[lowest].pair_rank = rank_after_merge(lowest);
    parts.erase(parts.begin() + lowest + 1);
  }

  for (size_t i = 0; i + 1 < parts.size(); ++i) ids->push_back(parts[i].rank);
}

void BytePairEncodeByQueue(absl::string_view piece, const RankTable& ranks,
                           std::vector<uint32_t>* ids) {
  // The parts form a linked list over byte positions: a part is named by the position it starts
  // at, and next[p] is where the part after it starts (piece.size() past the last one).
  const uint32_t size = static_cast<uint32_t>(piece.size());
  std::vector<uint32_t> next(size), previous(size), rank(size), version(size, 0);
  std::vector<bool> alive(size, true);
  for (uint32_t p = 0; p < size; ++p) {
    next[p] = p + 1;
    previous[p] = p == 0 ? size : p - 1;
    rank[p] = ranks.Find(piece.substr(p, 1));
  }

  // A candidate merge of the part at `start` with its successor; it is stale once either part
  // has changed, which `version` tells. Ordered lowest rank first, then leftmost.
  struct Candidate {
    uint32_t rank;
    uint32_t start;
    uint32_t version;
    bool operator>(const Candidate& other) const {
      return std::pair(rank, start) > std::pair(other.rank, other.start);
    }
  };
  std::priority_queue<Candidate, std::vector<Candidate>, std::greater<Candidate>> candidates;
  const auto offer = [&](uint32_t start) {
    ++version[start];
    if (next[start] >= size) return;
    const uint32_t end = next[next[start]];
    const uint32_t pair_rank = ranks.Find(piece.substr(start, end - start));
    if (pair_rank != kNoRank) candidates.push({pair_rank, start, version[start]});
  };
  for (uint32_t p = 0; p < size; ++p) offer(p);

  while (!candidates.empty()) {
    const Candidate best = candidates.top();
    candidates.pop();
    if (!alive[best.start] || best.version != version[best.start]) continue;

    const uint32_t absorbed = next[best.start];
    alive[absorbed] = false;
    rank[best.start] = best.rank;
    next[best.start] = next[absorbed];
    if (next[absorbed] < size) previous[next[absorbed]] = best.start;
    offer(best.start);
    if (previous[best.start] < size) offer(previous[best.start]);
  }

  for (uint32_t p = 0; p < size; p = next[p]) ids->push_back(rank[p]);
}

void BytePairEncode(absl::string_view piece, const RankTable& ranks, std::vector<uint32_t>* ids) {
  if (piece.size() > kLongPieceBytes) {
    BytePairEncodeByQueue(piece, ranks, ids);
  } else {
    BytePairEncodeByScan(piece, ranks, ids);
  }
}

}  // namespace quarry::text
