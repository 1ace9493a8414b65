// The command-line options that choose the router's embedder, shared by `quarry router` and
// `quarry local`.
#ifndef QUARRY_SERVICES_CLI_EMBEDDER_FLAGS_H_
#define QUARRY_SERVICES_CLI_EMBEDDER_FLAGS_H_

#include <CLI/CLI.hpp>
#include <string>

#include "absl/status/statusor.h"
#include "router/router_service.h"

namespace quarry::cli {

struct EmbedderFlags {
  std::string embedder = "hash";  // hash, openai or none
  std::string url;                // openai: base URL up to the API version
  std::string model;              // openai: model name
  int batch = 64;                 // openai: texts per request
  double timeout_s = 30;          // openai: seconds per request
  int retries = 4;                // openai: retries after 429, 5xx or a failed connection
};

// Adds --embedder, --embed-url, --embed-model, --embed-batch, --embed-timeout and
// --embed-retries to `command`, stored in `*flags` (which must outlive the parse).
void AddEmbedderOptions(CLI::App* command, EmbedderFlags* flags);

// The embedder the flags name (null for "none"); INVALID_ARGUMENT when the options of an HTTP
// endpoint are missing or bad. The key of an HTTP endpoint comes from $QUARRY_EMBED_API_KEY
// only, so it never shows in a process listing or a log line.
absl::StatusOr<router::EmbedderFactory> MakeEmbedderFactory(const EmbedderFlags& flags);

// "hash", or "openai (MODEL at URL)", for the start-up log line.
std::string DescribeEmbedder(const EmbedderFlags& flags);

}  // namespace quarry::cli

#endif  // QUARRY_SERVICES_CLI_EMBEDDER_FLAGS_H_
