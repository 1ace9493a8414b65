// TLS for Quarry's gRPC listeners and channels, from PEM files named at start-up.
//
// A TlsConfig holds the PEM text of one process's certificate chain, private key and CA bundle,
// read and checked once by Load, so that a missing, unreadable or malformed file, or a key that
// does not belong to its certificate, stops start-up with a message naming the file instead of
// failing later inside gRPC. From it come the credentials of every listener and channel of the
// process:
//
//   - a listener serves TLS with the certificate and key; when a CA bundle is given too, it
//     requires a client certificate signed by that CA (mutual TLS);
//   - a channel verifies the server against the CA bundle (the system roots when none is
//     given) and presents the certificate and key, when given, as its client certificate.
//
// An empty config means plaintext everywhere, as for a cluster on loopback.
//
// Thread-safe: immutable once loaded.
#ifndef QUARRY_SERVICES_RUNTIME_TLS_H_
#define QUARRY_SERVICES_RUNTIME_TLS_H_

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace quarry::runtime {

// The files a process's TLS comes from; empty names are not set.
struct TlsFiles {
  std::string cert;  // PEM certificate chain this process presents, as server and as client
  std::string key;   // PEM private key of `cert`
  std::string ca;    // PEM CA bundle the peers' certificates are verified against
  // Channels only: the name the server's certificate must carry, instead of the host of the
  // address dialled (for servers reached by an address their certificate does not name).
  std::string server_name;
};

// Whether the TLS material is for a process that serves (it needs a certificate and key as soon
// as anything is set) or only for a client (a CA bundle alone is enough).
enum class TlsRole { kService, kClient };

class TlsConfig {
 public:
  // Plaintext.
  TlsConfig() = default;

  // Reads and checks the files. INVALID_ARGUMENT naming the flag and file when a file is
  // missing, unreadable or not PEM of the right kind, when the key does not match the
  // certificate, when only one of certificate and key is given, or when a service is given a
  // CA bundle or server name without its own certificate.
  static absl::StatusOr<TlsConfig> Load(const TlsFiles& files, TlsRole role);

  // True when listeners and channels use TLS.
  bool enabled() const { return !cert_pem_.empty() || !ca_pem_.empty(); }
  // True when listeners require client certificates signed by the CA bundle.
  bool mutual() const { return !cert_pem_.empty() && !ca_pem_.empty(); }

  // Credentials for a listener: insecure, TLS, or TLS requiring verified client certificates.
  std::shared_ptr<grpc::ServerCredentials> ServerCredentials() const;

  // A channel to `address` (host:port) with these credentials and `arguments`.
  std::shared_ptr<grpc::Channel> CreateChannel(const std::string& address,
                                               grpc::ChannelArguments arguments = {}) const;

  // "plaintext", "tls" or "mutual tls", with the files, for start-up log lines.
  std::string Describe() const;

 private:
  TlsFiles files_;
  std::string cert_pem_;
  std::string key_pem_;
  std::string ca_pem_;
};

}  // namespace quarry::runtime

#endif  // QUARRY_SERVICES_RUNTIME_TLS_H_
