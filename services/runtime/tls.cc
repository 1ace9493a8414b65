#include "services/runtime/tls.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"

namespace quarry::runtime {
namespace {

using Bio = std::unique_ptr<BIO, decltype(&BIO_free)>;
using Certificate = std::unique_ptr<X509, decltype(&X509_free)>;
using PrivateKey = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;

absl::Status Invalid(absl::string_view flag, const std::string& path, absl::string_view problem) {
  return absl::InvalidArgumentError(absl::StrCat(flag, " file ", path, ": ", problem));
}

// The whole file at `path`; INVALID_ARGUMENT naming `flag` when it cannot be read.
absl::StatusOr<std::string> ReadPem(absl::string_view flag, const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Invalid(flag, path, std::strerror(errno));
  std::stringstream text;
  text << in.rdbuf();
  if (in.bad()) return Invalid(flag, path, "read failed");
  if (text.str().empty()) return Invalid(flag, path, "the file is empty");
  return text.str();
}

Bio MemoryBio(const std::string& pem) {
  return Bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), &BIO_free);
}

// The first certificate of `pem`, after checking that every PEM block of it is a certificate.
absl::StatusOr<Certificate> ParseCertificates(absl::string_view flag, const std::string& path,
                                              const std::string& pem) {
  Bio bio = MemoryBio(pem);
  Certificate first(nullptr, &X509_free);
  int count = 0;
  while (X509* raw = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) {
    Certificate certificate(raw, &X509_free);
    if (count++ == 0) first = std::move(certificate);
  }
  ERR_clear_error();
  if (count == 0) return Invalid(flag, path, "no PEM certificate in it");
  return first;
}

absl::StatusOr<PrivateKey> ParsePrivateKey(const std::string& path, const std::string& pem) {
  Bio bio = MemoryBio(pem);
  PrivateKey key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr), &EVP_PKEY_free);
  ERR_clear_error();
  if (key == nullptr) {
    return Invalid("--tls-key", path, "no unencrypted PEM private key in it");
  }
  return key;
}

}  // namespace

absl::StatusOr<TlsConfig> TlsConfig::Load(const TlsFiles& files, TlsRole role) {
  TlsConfig config;
  config.files_ = files;
  if (files.cert.empty() != files.key.empty()) {
    return absl::InvalidArgumentError("--tls-cert and --tls-key go together: give both or neither");
  }
  if (role == TlsRole::kService && files.cert.empty() &&
      (!files.ca.empty() || !files.server_name.empty())) {
    return absl::InvalidArgumentError(
        "--tls-ca and --tls-server-name need --tls-cert and --tls-key on a service");
  }
  if (!files.server_name.empty() && files.cert.empty() && files.ca.empty()) {
    return absl::InvalidArgumentError("--tls-server-name needs --tls-ca or --tls-cert");
  }

  if (!files.cert.empty()) {
    absl::StatusOr<std::string> cert = ReadPem("--tls-cert", files.cert);
    if (!cert.ok()) return cert.status();
    absl::StatusOr<std::string> key = ReadPem("--tls-key", files.key);
    if (!key.ok()) return key.status();
    absl::StatusOr<Certificate> certificate = ParseCertificates("--tls-cert", files.cert, *cert);
    if (!certificate.ok()) return certificate.status();
    absl::StatusOr<PrivateKey> private_key = ParsePrivateKey(files.key, *key);
    if (!private_key.ok()) return private_key.status();
    const bool matches = X509_check_private_key(certificate->get(), private_key->get()) == 1;
    ERR_clear_error();
    if (!matches) {
      return Invalid("--tls-key", files.key,
                     absl::StrCat("the key does not belong to the certificate in ", files.cert));
    }
    config.cert_pem_ = *std::move(cert);
    config.key_pem_ = *std::move(key);
  }
  if (!files.ca.empty()) {
    absl::StatusOr<std::string> ca = ReadPem("--tls-ca", files.ca);
    if (!ca.ok()) return ca.status();
    absl::StatusOr<Certificate> certificate = ParseCertificates("--tls-ca", files.ca, *ca);
    if (!certificate.ok()) return certificate.status();
    config.ca_pem_ = *std::move(ca);
  }
  return config;
}

std::shared_ptr<grpc::ServerCredentials> TlsConfig::ServerCredentials() const {
  if (cert_pem_.empty()) return grpc::InsecureServerCredentials();
  grpc::SslServerCredentialsOptions options(
      mutual() ? GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY
               : GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE);
  options.pem_root_certs = ca_pem_;
  options.pem_key_cert_pairs.push_back({key_pem_, cert_pem_});
  return grpc::SslServerCredentials(options);
}

std::shared_ptr<grpc::Channel> TlsConfig::CreateChannel(const std::string& address,
                                                        grpc::ChannelArguments arguments) const {
  if (!enabled()) {
    return grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(), arguments);
  }
  grpc::SslCredentialsOptions options;
  options.pem_root_certs = ca_pem_;
  options.pem_private_key = key_pem_;
  options.pem_cert_chain = cert_pem_;
  if (!files_.server_name.empty()) arguments.SetSslTargetNameOverride(files_.server_name);
  return grpc::CreateCustomChannel(address, grpc::SslCredentials(options), arguments);
}

std::string TlsConfig::Describe() const {
  if (!enabled()) return "plaintext";
  std::string description = mutual() ? "mutual tls" : "tls";
  if (!files_.cert.empty()) absl::StrAppend(&description, " cert=", files_.cert);
  if (!files_.ca.empty()) absl::StrAppend(&description, " ca=", files_.ca);
  if (!files_.server_name.empty())
    absl::StrAppend(&description, " server_name=", files_.server_name);
  return description;
}

}  // namespace quarry::runtime
