// Builders shared by the shard's tests: documents with deterministic vectors, requests, and
// temporary directories.
#ifndef QUARRY_SHARD_TEST_UTIL_H_
#define QUARRY_SHARD_TEST_UTIL_H_

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "quarry/v1/shard.pb.h"

namespace quarry::shard::testing {

// A vector with components drawn from a seeded normal distribution.
inline std::vector<float> RandomVector(int dimension, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> normal;
  std::vector<float> vector(dimension);
  for (float& x : vector) x = normal(rng);
  return vector;
}

// A document of `chunks` chunks whose vectors are RandomVector(dimension, seed + ordinal).
inline v1::DocumentChunks MakeDocument(const std::string& tenant, const std::string& id, int chunks,
                                       int dimension, uint64_t seed,
                                       std::vector<std::string> groups = {}) {
  v1::DocumentChunks entry;
  entry.mutable_document()->set_tenant(tenant);
  entry.mutable_document()->set_id(id);
  entry.mutable_document()->set_title("Title of " + id);
  for (const std::string& group : groups) entry.mutable_document()->add_acl_groups(group);
  for (int i = 0; i < chunks; ++i) {
    v1::Chunk* chunk = entry.add_chunks();
    chunk->set_ordinal(i);
    chunk->set_text(id + " passage " + std::to_string(i));
    std::vector<float> vector = RandomVector(dimension, seed + i);
    chunk->mutable_vector()->Add(vector.begin(), vector.end());
  }
  return entry;
}

inline v1::SearchRequest MakeSearch(const std::vector<float>& vector, int k,
                                    const std::string& tenant,
                                    std::vector<std::string> groups = {}) {
  v1::SearchRequest request;
  request.mutable_vector()->Add(vector.begin(), vector.end());
  request.set_k(k);
  request.mutable_principal()->set_tenant(tenant);
  for (const std::string& group : groups) request.mutable_principal()->add_groups(group);
  return request;
}

// A fresh directory under the test temp dir, removed when the object goes away.
class TempDir {
 public:
  TempDir() {
    const char* base = std::getenv("TEST_TMPDIR");
    std::string pattern = std::string(base ? base : "/tmp") + "/quarry-test-XXXXXX";
    path_ = mkdtemp(pattern.data());
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace quarry::shard::testing

#endif  // QUARRY_SHARD_TEST_UTIL_H_
