#include "services/answer/mmr.h"

#include <algorithm>
#include <cassert>
#include <limits>

namespace quarry::answer {

std::vector<size_t> MmrOrder(const std::vector<float>& scores,
                             const std::vector<const ShingleSet*>& shingles, double lambda) {
  assert(scores.size() == shingles.size());
  const size_t n = scores.size();
  std::vector<size_t> order;
  if (n == 0) return order;

  // Positive scores (cosine) keep their proportions; others are spread over [0, 1].
  const auto [low, high] = std::minmax_element(scores.begin(), scores.end());
  const double range = static_cast<double>(*high) - *low;
  std::vector<double> relevance(n);
  for (size_t i = 0; i < n; ++i) {
    if (*low > 0) {
      relevance[i] = scores[i] / *high;
    } else {
      relevance[i] = range > 0 ? (scores[i] - *low) / range : 1.0;
    }
  }

  // max_similarity[i]: the highest similarity of candidate i to any chosen one so far.
  std::vector<double> max_similarity(n, 0);
  std::vector<bool> chosen(n, false);
  order.reserve(n);
  for (size_t step = 0; step < n; ++step) {
    size_t best = n;
    double best_value = -std::numeric_limits<double>::infinity();
    for (size_t i = 0; i < n; ++i) {
      if (chosen[i]) continue;
      const double value = lambda * relevance[i] - (1 - lambda) * max_similarity[i];
      if (value > best_value) {
        best = i;
        best_value = value;
      }
    }
    chosen[best] = true;
    order.push_back(best);
    for (size_t i = 0; i < n; ++i) {
      if (!chosen[i]) {
        max_similarity[i] =
            std::max(max_similarity[i], ShingleJaccard(*shingles[i], *shingles[best]));
      }
    }
  }
  return order;
}

}  // namespace quarry::answer
