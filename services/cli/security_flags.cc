#include "services/cli/security_flags.h"

#include <cstdlib>
#include <utility>

namespace quarry::cli {

void AddTlsOptions(CLI::App* command, runtime::TlsFiles* files, TlsUse use) {
  if (use == TlsUse::kClient) {
    command->add_option("--tls-ca", files->ca,
                        "PEM CA bundle to verify the server's certificate against; turns TLS on");
    command->add_option("--tls-cert", files->cert,
                        "PEM client certificate chain, for a server that requires mutual TLS; "
                        "turns TLS on (the server is then verified against the system roots "
                        "unless --tls-ca is given)");
    command->add_option("--tls-key", files->key, "PEM private key of --tls-cert (unencrypted)");
    const std::string environment =
        "Environment: QUARRY_API_KEY, the API key sent as 'authorization: Bearer KEY' to a "
        "server that checks keys.";
    const std::string footer = command->get_footer();
    command->footer(footer.empty() ? environment : footer + "\n\n" + environment);
  } else {
    command->add_option(
        "--tls-cert", files->cert,
        use == TlsUse::kServer
            ? "PEM certificate chain to serve TLS with (with --tls-key); unset: plaintext"
            : "PEM certificate chain to serve TLS with (with --tls-key), also presented as the "
              "client certificate to the upstream service; unset: plaintext");
    command->add_option("--tls-key", files->key, "PEM private key of --tls-cert (unencrypted)");
    command->add_option(
        "--tls-ca", files->ca,
        use == TlsUse::kServer
            ? "PEM CA bundle; when set, every client must present a certificate signed by it "
              "(mutual TLS)"
            : "PEM CA bundle; when set, every client must present a certificate signed by it "
              "(mutual TLS), and the upstream service's certificate is verified against it");
  }
  if (use != TlsUse::kServer) {
    command->add_option("--tls-server-name", files->server_name,
                        "Name the server's certificate must carry, when it differs from the "
                        "host of the address dialled");
  }
}

void AddApiKeysOption(CLI::App* command, std::string* path) {
  command->add_option("--api-keys", *path,
                      "YAML file of API keys (their SHA-256 digests) and the tenant each acts "
                      "for; when set, every call needs 'authorization: Bearer KEY' metadata and "
                      "may act only for its key's tenant");
}

absl::StatusOr<std::shared_ptr<const runtime::ApiKeyTable>> LoadApiKeys(const std::string& path) {
  if (path.empty()) return std::shared_ptr<const runtime::ApiKeyTable>();
  absl::StatusOr<runtime::ApiKeyTable> table = runtime::ApiKeyTable::Load(path);
  if (!table.ok()) return table.status();
  return std::make_shared<const runtime::ApiKeyTable>(*std::move(table));
}

absl::StatusOr<std::shared_ptr<grpc::Channel>> ClientChannel(const std::string& address,
                                                             const runtime::TlsFiles& files) {
  absl::StatusOr<runtime::TlsConfig> tls =
      runtime::TlsConfig::Load(files, runtime::TlsRole::kClient);
  if (!tls.ok()) return tls.status();
  return tls->CreateChannel(address);
}

void AttachApiKeyFromEnvironment(grpc::ClientContext& context) {
  if (const char* key = std::getenv("QUARRY_API_KEY")) runtime::AttachApiKey(key, context);
}

}  // namespace quarry::cli
