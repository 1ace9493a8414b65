// An embedder that calls an OpenAI-compatible `POST {base_url}/embeddings` endpoint over HTTP:
// OpenAI itself, or a local server such as Ollama, vLLM, text-embeddings-inference or the
// llama.cpp server.
//
// Texts go out in batches of `batch_size` per request. Connection failures, timeouts, HTTP 5xx
// and 429 are retried with exponential backoff and jitter (or after the server's Retry-After);
// everything else fails at once. Every returned vector must have the cluster's dimension and is
// L2-normalised, since the shards score by inner product and expect unit vectors.
//
// Errors name the endpoint and the cause:
//   UNAVAILABLE          the endpoint could not be reached, timed out or answered 5xx, on every
//                        attempt;
//   RESOURCE_EXHAUSTED   the endpoint kept answering 429 (rate limited);
//   UNAUTHENTICATED      401, the API key is missing or wrong;
//   PERMISSION_DENIED    403;
//   FAILED_PRECONDITION  404 (no such model or path), or an answer that is not the expected
//                        JSON, has the wrong number of vectors or the wrong dimension;
//   INVALID_ARGUMENT     any other 4xx, e.g. a text longer than the model accepts.
//
// Thread-safe: concurrent Embed calls each use their own curl handle; idle handles are kept,
// with their open connections, for later calls.
#ifndef QUARRY_SERVICES_EMBED_OPENAI_EMBEDDER_H_
#define QUARRY_SERVICES_EMBED_OPENAI_EMBEDDER_H_

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "services/embed/embedder.h"

namespace quarry::embed {

class OpenAiEmbedder final : public Embedder {
 public:
  struct Options {
    // Up to and including the API version, e.g. "http://127.0.0.1:11434/v1" or
    // "https://api.openai.com/v1"; requests go to base_url + "/embeddings".
    std::string base_url;
    std::string model;
    // Sent as "Authorization: Bearer <api_key>" when not empty.
    std::string api_key;
    // The cluster's dimension; an endpoint that returns any other length is an error.
    int dimension = 0;
    // Texts per HTTP request, 1..2048 (OpenAI's limit per request).
    int batch_size = 64;
    // Whole request, from connecting to the last byte of the answer.
    std::chrono::milliseconds timeout{30000};
    std::chrono::milliseconds connect_timeout{5000};
    // Attempts per batch beyond the first, for failures that may pass.
    int max_retries = 4;
    // Backoff before retry n (from 0) is initial_backoff * 2^n capped at max_backoff, less a
    // random part of up to half, so that many clients do not retry in step.
    std::chrono::milliseconds initial_backoff{200};
    std::chrono::milliseconds max_backoff{5000};
    // A Retry-After on 429 or 503 replaces the backoff, up to this long.
    std::chrono::milliseconds max_retry_after{20000};
    // Larger answers are refused rather than held in memory.
    int64_t max_response_bytes = int64_t{256} << 20;
  };

  // INVALID_ARGUMENT naming the first bad option.
  static absl::StatusOr<std::unique_ptr<OpenAiEmbedder>> Create(Options options);

  ~OpenAiEmbedder() override;
  OpenAiEmbedder(const OpenAiEmbedder&) = delete;
  OpenAiEmbedder& operator=(const OpenAiEmbedder&) = delete;

  std::string name() const override { return "openai:" + options_.model; }
  int dimension() const override { return options_.dimension; }

  // One unit vector (or a zero vector, if the endpoint returned one) per text, in order. An
  // empty input makes no request. Blocks for up to about
  // (timeout + max(max_backoff, max_retry_after)) * (max_retries + 1) per batch.
  absl::StatusOr<std::vector<std::vector<float>>> Embed(
      const std::vector<std::string>& texts) override;

 private:
  class Handle;
  struct HttpResult;
  struct Failure;

  explicit OpenAiEmbedder(Options options);

  // A curl handle from the idle pool, or a new one; its connections outlive the call.
  std::unique_ptr<Handle> TakeHandle();
  void ReturnHandle(std::unique_ptr<Handle> handle);

  // One POST of one batch, retried as the header describes.
  absl::StatusOr<std::vector<std::vector<float>>> EmbedBatch(Handle& handle,
                                                             const std::vector<std::string>& texts,
                                                             size_t begin, size_t end);
  HttpResult Post(Handle& handle, const std::string& body) const;
  Failure Classify(const HttpResult& result) const;
  absl::StatusOr<std::vector<std::vector<float>>> ParseResponse(const std::string& body,
                                                                size_t expected) const;

  const Options options_;
  const std::string endpoint_;  // base_url + "/embeddings"
  const std::string authorization_;

  absl::Mutex mu_;
  std::vector<std::unique_ptr<Handle>> idle_ ABSL_GUARDED_BY(mu_);
};

}  // namespace quarry::embed

#endif  // QUARRY_SERVICES_EMBED_OPENAI_EMBEDDER_H_
