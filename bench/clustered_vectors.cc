#include "bench/clustered_vectors.h"

#include <cmath>
#include <random>

namespace quarry::bench {
namespace {

void NormalizeRow(float* row, int dimension) {
  double norm = 0;
  for (int j = 0; j < dimension; ++j) norm += static_cast<double>(row[j]) * row[j];
  if (norm == 0) return;
  const float scale = static_cast<float>(1.0 / std::sqrt(norm));
  for (int j = 0; j < dimension; ++j) row[j] *= scale;
}

}  // namespace

ClusteredVectorGenerator::ClusteredVectorGenerator(int dimension, int clusters, uint64_t seed)
    : dimension_(dimension), clusters_(clusters), seed_(seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> coordinate(0.0f, 1.0f);
  centres_.resize(static_cast<size_t>(clusters) * dimension);
  for (float& x : centres_) x = coordinate(rng);
}

VectorSet ClusteredVectorGenerator::Draw(size_t count, uint64_t stream, float spread) const {
  // Mixing the stream into the seed keeps draws for different streams independent.
  std::mt19937_64 rng(seed_ ^ (0x9e3779b97f4a7c15ULL * (stream + 1)));
  std::uniform_int_distribution<int> pick_cluster(0, clusters_ - 1);
  std::normal_distribution<float> noise(0.0f, spread);

  VectorSet set;
  set.dimension = dimension_;
  set.count = count;
  set.values.resize(count * dimension_);
  for (size_t i = 0; i < count; ++i) {
    const float* centre = centres_.data() + static_cast<size_t>(pick_cluster(rng)) * dimension_;
    float* row = set.values.data() + i * dimension_;
    for (int j = 0; j < dimension_; ++j) row[j] = centre[j] + noise(rng);
    NormalizeRow(row, dimension_);
  }
  return set;
}

}  // namespace quarry::bench
