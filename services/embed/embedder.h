// Turns text into vectors. The router embeds query text and chunks sent without vectors with
// the embedder its configuration names.
//
// Implementations must be thread-safe.
#ifndef QUARRY_SERVICES_EMBED_EMBEDDER_H_
#define QUARRY_SERVICES_EMBED_EMBEDDER_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace quarry::embed {

class Embedder {
 public:
  virtual ~Embedder() = default;

  // The name shown in logs and status, e.g. "hash" or "openai:text-embedding-3-small".
  virtual std::string name() const = 0;

  // The length of every vector this embedder returns.
  virtual int dimension() const = 0;

  // One vector of dimension() floats per text, in order.
  virtual absl::StatusOr<std::vector<std::vector<float>>> Embed(
      const std::vector<std::string>& texts) = 0;
};

}  // namespace quarry::embed

#endif  // QUARRY_SERVICES_EMBED_EMBEDDER_H_
