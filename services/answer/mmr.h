// Maximal marginal relevance: reorders ranked passages so that each next one is relevant to the
// question and unlike those already chosen.
//
// The next passage maximises lambda * relevance - (1 - lambda) * max similarity to a chosen
// one. Relevance is the search score over the best score when every score is positive (cosine
// similarity), else the score scaled to [0, 1] over the candidates; similarity is the Jaccard
// index of shingle sets.
//
// Pure function; thread-safe.
#ifndef QUARRY_SERVICES_ANSWER_MMR_H_
#define QUARRY_SERVICES_ANSWER_MMR_H_

#include <cstddef>
#include <vector>

#include "services/answer/shingles.h"

namespace quarry::answer {

// The order of `scores.size()` candidates; `shingles[i]` belongs to candidate i. lambda 1 keeps
// the score order. REQUIRES: scores.size() == shingles.size(), 0 <= lambda <= 1.
std::vector<size_t> MmrOrder(const std::vector<float>& scores,
                             const std::vector<const ShingleSet*>& shingles, double lambda);

}  // namespace quarry::answer

#endif  // QUARRY_SERVICES_ANSWER_MMR_H_
