// Synthetic embeddings for the benchmark: points scattered around a fixed set of random
// cluster centres, so that an IVF quantizer and an HNSW graph meet the kind of structure real
// embeddings have, reproducibly from a seed.
//
// Thread-compatible: Draw is const and may be called from several threads.
#ifndef QUARRY_BENCH_CLUSTERED_VECTORS_H_
#define QUARRY_BENCH_CLUSTERED_VECTORS_H_

#include <cstddef>
#include <cstdint>
#include <vector>

namespace quarry::bench {

// `count` vectors of `dimension` floats each, row by row (count * dimension values).
struct VectorSet {
  int dimension = 0;
  size_t count = 0;
  std::vector<float> values;

  const float* row(size_t i) const { return values.data() + i * dimension; }
};

class ClusteredVectorGenerator {
 public:
  // Draws `clusters` centres with coordinates from N(0, 1).
  // REQUIRES: dimension > 0, clusters > 0.
  ClusteredVectorGenerator(int dimension, int clusters, uint64_t seed);

  // `count` points, each a uniformly chosen centre plus N(0, spread^2) noise per coordinate,
  // normalised to unit length (the shard normalises for metric "ip" anyway). Different
  // `stream` values give independent draws from the same clusters, e.g. base set and queries.
  VectorSet Draw(size_t count, uint64_t stream, float spread) const;

  int dimension() const { return dimension_; }
  int clusters() const { return clusters_; }

 private:
  const int dimension_;
  const int clusters_;
  const uint64_t seed_;
  std::vector<float> centres_;  // clusters * dimension
};

}  // namespace quarry::bench

#endif  // QUARRY_BENCH_CLUSTERED_VECTORS_H_
