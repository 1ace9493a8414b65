// API keys bound to tenants, checked on every call of the router and the answer service.
//
// A caller sends its key as gRPC metadata `authorization: Bearer KEY`. The key file holds no
// secrets, only the SHA-256 digest of each key with the tenant it acts for:
//
//   keys:
//     - name: acme-search          # for log lines; optional
//       sha256: 9f86d081884c7d65...  # hex SHA-256 of the key (sha256sum of the bare key)
//       tenant: acme
//     - name: operator
//       sha256: 60303ae22b998861...
//       admin: true                # may call tenant-less operations (GetStatus)
//
// A key acts for exactly one tenant: every tenant a request names (its principal, its
// documents) must be that tenant, whatever else the request claims. An admin key may also call
// operations that name no tenant; an admin key without a tenant may call only those.
//
// Thread-safe: immutable once loaded.
#ifndef QUARRY_SERVICES_RUNTIME_API_KEYS_H_
#define QUARRY_SERVICES_RUNTIME_API_KEYS_H_

#include <grpcpp/grpcpp.h>

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace quarry::runtime {

// The metadata key callers send their API key in, as "Bearer KEY".
inline constexpr char kAuthorizationMetadata[] = "authorization";

// What a key may do.
struct ApiKeyGrant {
  std::string name;    // from the key file, for log lines; never the key
  std::string tenant;  // empty only for an admin key bound to no tenant
  bool admin = false;
};

class ApiKeyTable {
 public:
  // Reads the key file at `path`; INVALID_ARGUMENT naming the file and the problem.
  static absl::StatusOr<ApiKeyTable> Load(const std::string& path);
  // Parses key-file text; INVALID_ARGUMENT for bad YAML, a missing or malformed digest, a
  // repeated digest, or a key with an empty or missing tenant that is not an admin key.
  static absl::StatusOr<ApiKeyTable> Parse(absl::string_view yaml);

  size_t size() const { return keys_.size(); }

  // The grant of `key`; UNAUTHENTICATED when no entry has its digest. Every entry is compared,
  // in constant time, whatever the key.
  absl::StatusOr<ApiKeyGrant> Find(absl::string_view key) const;

  // The grant of the key in the `authorization` metadata of a call; UNAUTHENTICATED when the
  // metadata is missing, not "Bearer KEY", or names an unknown key. No message names the key.
  absl::StatusOr<ApiKeyGrant> Authenticate(const grpc::ServerContext& context) const;

 private:
  struct Entry {
    std::array<uint8_t, 32> digest;
    ApiKeyGrant grant;
  };
  std::vector<Entry> keys_;
};

// OK when `grant` acts for `tenant`; PERMISSION_DENIED otherwise, naming both tenants.
absl::Status AuthorizeTenant(const ApiKeyGrant& grant, absl::string_view tenant);
// OK for an admin key; PERMISSION_DENIED otherwise.
absl::Status AuthorizeAdmin(const ApiKeyGrant& grant);

// Adds `authorization: Bearer KEY` to a call; nothing when `key` is empty.
void AttachApiKey(absl::string_view key, grpc::ClientContext& context);
// Passes the `authorization` metadata of an incoming call on to an outgoing one, if it has any.
void ForwardAuthorization(const grpc::ServerContext& from, grpc::ClientContext& to);

}  // namespace quarry::runtime

#endif  // QUARRY_SERVICES_RUNTIME_API_KEYS_H_
