#include "services/cli/embedder_flags.h"

#include <chrono>
#include <cstdlib>
#include <memory>
#include <utility>

#include "services/embed/hash_embedder.h"
#include "services/embed/openai_embedder.h"

namespace quarry::cli {

void AddEmbedderOptions(CLI::App* command, EmbedderFlags* flags) {
  command
      ->add_option("--embedder", flags->embedder,
                   "How text becomes vectors: hash (built in, no model), openai (an "
                   "OpenAI-compatible /v1/embeddings endpoint) or none (callers send vectors)")
      ->capture_default_str()
      ->check(CLI::IsMember({"hash", "openai", "none"}));
  command->add_option("--embed-url", flags->url,
                      "With --embedder openai: the API base URL up to the version, e.g. "
                      "http://127.0.0.1:11434/v1; the key comes from $QUARRY_EMBED_API_KEY");
  command->add_option("--embed-model", flags->model,
                      "With --embedder openai: the model name, e.g. text-embedding-3-small");
  command->add_option("--embed-batch", flags->batch, "Texts per embedding request")
      ->capture_default_str()
      ->check(CLI::Range(1, 2048));
  command->add_option("--embed-timeout", flags->timeout_s, "Seconds one embedding request may take")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  command
      ->add_option("--embed-retries", flags->retries,
                   "Retries of an embedding request after 429, 5xx or a failed connection")
      ->capture_default_str()
      ->check(CLI::Range(0, 20));
}

absl::StatusOr<router::EmbedderFactory> MakeEmbedderFactory(const EmbedderFlags& flags) {
  if (flags.embedder == "none") return router::EmbedderFactory();
  if (flags.embedder == "hash") {
    return router::EmbedderFactory(
        [](int dimension) -> absl::StatusOr<std::unique_ptr<embed::Embedder>> {
          return std::make_unique<embed::HashEmbedder>(dimension);
        });
  }
  if (flags.url.empty() || flags.model.empty()) {
    return absl::InvalidArgumentError("--embedder openai needs --embed-url and --embed-model");
  }
  embed::OpenAiEmbedder::Options base;
  base.base_url = flags.url;
  base.model = flags.model;
  if (const char* key = std::getenv("QUARRY_EMBED_API_KEY")) base.api_key = key;
  base.batch_size = flags.batch;
  base.timeout = std::chrono::milliseconds(static_cast<int64_t>(flags.timeout_s * 1000));
  base.max_retries = flags.retries;

  // The dimension is the shards', known only once they answer; the rest is checked now, so
  // that a bad URL stops start-up.
  embed::OpenAiEmbedder::Options probe = base;
  probe.dimension = 1;
  absl::StatusOr<std::unique_ptr<embed::OpenAiEmbedder>> checked =
      embed::OpenAiEmbedder::Create(probe);
  if (!checked.ok()) return checked.status();

  return router::EmbedderFactory(
      [base](int dimension) -> absl::StatusOr<std::unique_ptr<embed::Embedder>> {
        embed::OpenAiEmbedder::Options options = base;
        options.dimension = dimension;
        absl::StatusOr<std::unique_ptr<embed::OpenAiEmbedder>> made =
            embed::OpenAiEmbedder::Create(options);
        if (!made.ok()) return made.status();
        return std::unique_ptr<embed::Embedder>(*std::move(made));
      });
}

std::string DescribeEmbedder(const EmbedderFlags& flags) {
  if (flags.embedder != "openai") return flags.embedder;
  return "openai (" + flags.model + " at " + flags.url + ")";
}

}  // namespace quarry::cli
