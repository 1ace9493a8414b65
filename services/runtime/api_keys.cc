#include "services/runtime/api_keys.h"

#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <yaml-cpp/yaml.h>

#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace quarry::runtime {
namespace {

constexpr absl::string_view kBearer = "Bearer ";

absl::Status Invalid(const YAML::Node& node, absl::string_view problem) {
  const YAML::Mark mark = node.Mark();
  if (mark.is_null()) return absl::InvalidArgumentError(absl::StrCat("api keys: ", problem));
  return absl::InvalidArgumentError(absl::StrCat("api keys line ", mark.line + 1, ": ", problem));
}

std::array<uint8_t, 32> Sha256(absl::string_view text) {
  std::array<uint8_t, 32> digest;
  SHA256(reinterpret_cast<const unsigned char*>(text.data()), text.size(), digest.data());
  return digest;
}

// The digest spelled as 64 hex digits, either case.
bool ParseDigest(const std::string& hex, std::array<uint8_t, 32>& digest) {
  if (hex.size() != 64) return false;
  for (char c : hex) {
    if (!absl::ascii_isxdigit(static_cast<unsigned char>(c))) return false;
  }
  const std::string bytes = absl::HexStringToBytes(hex);
  std::copy(bytes.begin(), bytes.end(), digest.begin());
  return true;
}

// The scalar string at `node[field]`, or "" when absent; INVALID_ARGUMENT when not a scalar.
absl::StatusOr<std::string> ScalarField(const YAML::Node& node, const char* field) {
  const YAML::Node value = node[field];
  if (!value) return std::string();
  if (!value.IsScalar()) return Invalid(value, absl::StrCat("'", field, "' must be a string"));
  return value.as<std::string>();
}

}  // namespace

absl::StatusOr<ApiKeyTable> ApiKeyTable::Parse(absl::string_view yaml) {
  YAML::Node root;
  try {
    root = YAML::Load(std::string(yaml));
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("api keys line ", e.mark.line + 1, ": ", e.msg));
  }
  if (!root.IsMap() || !root["keys"] || !root["keys"].IsSequence() || root["keys"].size() == 0) {
    return Invalid(root, "expected a map with a non-empty 'keys' list");
  }

  ApiKeyTable table;
  const YAML::Node keys = root["keys"];
  for (size_t i = 0; i < keys.size(); ++i) {
    const YAML::Node key = keys[i];
    if (!key.IsMap()) return Invalid(key, absl::StrCat("key ", i, " must be a map"));
    Entry entry;
    absl::StatusOr<std::string> name = ScalarField(key, "name");
    if (!name.ok()) return name.status();
    entry.grant.name = name->empty() ? absl::StrCat("key ", i) : *name;

    absl::StatusOr<std::string> digest = ScalarField(key, "sha256");
    if (!digest.ok()) return digest.status();
    if (!ParseDigest(*digest, entry.digest)) {
      return Invalid(key, absl::StrCat(entry.grant.name,
                                       ": 'sha256' must be the 64 hex digits of the key's "
                                       "SHA-256 digest"));
    }
    for (const Entry& earlier : table.keys_) {
      if (earlier.digest == entry.digest) {
        return Invalid(
            key, absl::StrCat(entry.grant.name, " repeats the digest of ", earlier.grant.name));
      }
    }

    if (const YAML::Node admin = key["admin"]) {
      try {
        entry.grant.admin = admin.as<bool>();
      } catch (const YAML::Exception&) {
        return Invalid(admin, absl::StrCat(entry.grant.name, ": 'admin' must be true or false"));
      }
    }
    absl::StatusOr<std::string> tenant = ScalarField(key, "tenant");
    if (!tenant.ok()) return tenant.status();
    if (key["tenant"] && tenant->empty()) {
      return Invalid(key, absl::StrCat(entry.grant.name, ": 'tenant' is empty"));
    }
    if (tenant->empty() && !entry.grant.admin) {
      return Invalid(key, absl::StrCat(entry.grant.name, " needs a 'tenant' (or 'admin: true')"));
    }
    entry.grant.tenant = *std::move(tenant);
    table.keys_.push_back(std::move(entry));
  }
  return table;
}

absl::StatusOr<ApiKeyTable> ApiKeyTable::Load(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::InvalidArgumentError(absl::StrCat("cannot read --api-keys file ", path));
  std::stringstream text;
  text << in.rdbuf();
  absl::StatusOr<ApiKeyTable> table = Parse(text.str());
  if (!table.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": ", table.status().message()));
  }
  return table;
}

absl::StatusOr<ApiKeyGrant> ApiKeyTable::Find(absl::string_view key) const {
  const std::array<uint8_t, 32> digest = Sha256(key);
  const Entry* found = nullptr;
  for (const Entry& entry : keys_) {
    if (CRYPTO_memcmp(entry.digest.data(), digest.data(), digest.size()) == 0) found = &entry;
  }
  if (found == nullptr) return absl::UnauthenticatedError("unknown API key");
  return found->grant;
}

absl::StatusOr<ApiKeyGrant> ApiKeyTable::Authenticate(const grpc::ServerContext& context) const {
  const auto& metadata = context.client_metadata();
  const auto header = metadata.find(kAuthorizationMetadata);
  if (header == metadata.end()) {
    return absl::UnauthenticatedError(
        "an API key is required: send metadata 'authorization: Bearer KEY'");
  }
  const absl::string_view value(header->second.data(), header->second.size());
  if (!absl::StartsWith(value, kBearer) || value.size() == kBearer.size()) {
    return absl::UnauthenticatedError("the 'authorization' metadata is not 'Bearer KEY'");
  }
  return Find(value.substr(kBearer.size()));
}

absl::Status AuthorizeTenant(const ApiKeyGrant& grant, absl::string_view tenant) {
  if (!grant.tenant.empty() && grant.tenant == tenant) return absl::OkStatus();
  if (grant.tenant.empty()) {
    return absl::PermissionDeniedError(absl::StrCat(
        "API key '", grant.name, "' is bound to no tenant and cannot act for '", tenant, "'"));
  }
  return absl::PermissionDeniedError(absl::StrCat("API key '", grant.name, "' of tenant '",
                                                  grant.tenant, "' cannot act for tenant '", tenant,
                                                  "'"));
}

absl::Status AuthorizeAdmin(const ApiKeyGrant& grant) {
  if (grant.admin) return absl::OkStatus();
  return absl::PermissionDeniedError(
      absl::StrCat("API key '", grant.name, "' is not an admin key"));
}

void AttachApiKey(absl::string_view key, grpc::ClientContext& context) {
  if (!key.empty()) context.AddMetadata(kAuthorizationMetadata, absl::StrCat(kBearer, key));
}

void ForwardAuthorization(const grpc::ServerContext& from, grpc::ClientContext& to) {
  const auto& metadata = from.client_metadata();
  const auto header = metadata.find(kAuthorizationMetadata);
  if (header == metadata.end()) return;
  to.AddMetadata(kAuthorizationMetadata, std::string(header->second.data(), header->second.size()));
}

}  // namespace quarry::runtime
