// The command-line options for TLS and API keys, shared by the services (`quarry shard`,
// `router`, `answer`) and the client commands (`ingest`, `search`, `ask`, `status`).
//
// Client commands read their API key from $QUARRY_API_KEY only, so that it never shows in a
// process listing or a shell history.
#ifndef QUARRY_SERVICES_CLI_SECURITY_FLAGS_H_
#define QUARRY_SERVICES_CLI_SECURITY_FLAGS_H_

#include <grpcpp/grpcpp.h>

#include <CLI/CLI.hpp>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "services/runtime/api_keys.h"
#include "services/runtime/tls.h"

namespace quarry::cli {

// Who uses the TLS options, which decides which there are and how --help explains them.
enum class TlsUse {
  kServer,           // serves only (a shard)
  kServerAndClient,  // serves, and calls an upstream with the same certificate (router, answer)
  kClient,           // calls a server (the client commands)
};

// Adds --tls-cert, --tls-key and --tls-ca, and for callers of a server --tls-server-name, to
// `command`, stored in `*files` (which must outlive the parse).
void AddTlsOptions(CLI::App* command, runtime::TlsFiles* files, TlsUse use);

// Adds --api-keys to `command`, stored in `*path`.
void AddApiKeysOption(CLI::App* command, std::string* path);

// The key table at `path`; null when `path` is empty (no keys are checked).
absl::StatusOr<std::shared_ptr<const runtime::ApiKeyTable>> LoadApiKeys(const std::string& path);

// A client command's channel to `address`: TLS when the options ask for it, else plaintext.
// INVALID_ARGUMENT naming the file when a TLS file cannot be used.
absl::StatusOr<std::shared_ptr<grpc::Channel>> ClientChannel(const std::string& address,
                                                             const runtime::TlsFiles& files);

// Adds $QUARRY_API_KEY to `context` as `authorization: Bearer KEY`, when it is set.
void AttachApiKeyFromEnvironment(grpc::ClientContext& context);

}  // namespace quarry::cli

#endif  // QUARRY_SERVICES_CLI_SECURITY_FLAGS_H_
