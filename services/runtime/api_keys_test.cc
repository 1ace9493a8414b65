#include "services/runtime/api_keys.h"

#include <gtest/gtest.h>

#include <string>

namespace quarry::runtime {
namespace {

// SHA-256 of "alpha-key", "beta-key" and "admin-key".
constexpr char kAlphaDigest[] = "677509799af78b2efa2f2af71d0f906e0a0c50c048efd3b515625f788e92b99a";
constexpr char kBetaDigest[] = "7a3d637bc601f7000cc2c33141c8c8a7554e02e319fa8b293a0c88c613b77620";
constexpr char kAdminDigest[] = "69a5265506c94c77b787a7d7377b7685a0eff82e33920a71e7ee22cd6154953e";

std::string KeyFile() {
  return std::string("keys:\n") + "  - {name: alpha, sha256: " + kAlphaDigest +
         ", tenant: alpha}\n" + "  - {name: beta, sha256: " + kBetaDigest + ", tenant: beta}\n" +
         "  - {name: ops, sha256: " + kAdminDigest + ", admin: true}\n";
}

TEST(ApiKeyTable, FindsTheTenantOfEachKeyByItsDigest) {
  absl::StatusOr<ApiKeyTable> table = ApiKeyTable::Parse(KeyFile());
  ASSERT_TRUE(table.ok()) << table.status();
  EXPECT_EQ(table->size(), 3u);

  absl::StatusOr<ApiKeyGrant> alpha = table->Find("alpha-key");
  ASSERT_TRUE(alpha.ok()) << alpha.status();
  EXPECT_EQ(alpha->tenant, "alpha");
  EXPECT_EQ(alpha->name, "alpha");
  EXPECT_FALSE(alpha->admin);

  absl::StatusOr<ApiKeyGrant> ops = table->Find("admin-key");
  ASSERT_TRUE(ops.ok()) << ops.status();
  EXPECT_TRUE(ops->admin);
  EXPECT_TRUE(ops->tenant.empty());
}

TEST(ApiKeyTable, UnknownKeyIsUnauthenticatedWithoutNamingIt) {
  absl::StatusOr<ApiKeyTable> table = ApiKeyTable::Parse(KeyFile());
  ASSERT_TRUE(table.ok()) << table.status();
  absl::StatusOr<ApiKeyGrant> found = table->Find("guessed-secret");
  EXPECT_TRUE(absl::IsUnauthenticated(found.status())) << found.status();
  EXPECT_EQ(found.status().message().find("guessed-secret"), std::string::npos);
  // The digest itself is not a key.
  EXPECT_TRUE(absl::IsUnauthenticated(table->Find(kAlphaDigest).status()));
  EXPECT_TRUE(absl::IsUnauthenticated(table->Find("").status()));
}

TEST(ApiKeyTable, AcceptsUpperCaseDigests) {
  std::string digest = kAlphaDigest;
  for (char& c : digest) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  absl::StatusOr<ApiKeyTable> table =
      ApiKeyTable::Parse("keys:\n  - {sha256: " + digest + ", tenant: alpha}\n");
  ASSERT_TRUE(table.ok()) << table.status();
  EXPECT_TRUE(table->Find("alpha-key").ok());
}

TEST(ApiKeyTable, RefusesBadYamlNamingTheLine) {
  absl::StatusOr<ApiKeyTable> table = ApiKeyTable::Parse("keys:\n  - {sha256: [unclosed\n");
  EXPECT_TRUE(absl::IsInvalidArgument(table.status()));
  EXPECT_NE(table.status().message().find("line"), std::string::npos) << table.status();
}

TEST(ApiKeyTable, RefusesAFileWithoutKeys) {
  EXPECT_TRUE(absl::IsInvalidArgument(ApiKeyTable::Parse("").status()));
  EXPECT_TRUE(absl::IsInvalidArgument(ApiKeyTable::Parse("keys: []\n").status()));
  EXPECT_TRUE(absl::IsInvalidArgument(ApiKeyTable::Parse("tenants: {}\n").status()));
}

TEST(ApiKeyTable, RefusesARepeatedDigest) {
  const std::string yaml = std::string("keys:\n") + "  - {name: one, sha256: " + kAlphaDigest +
                           ", tenant: alpha}\n" + "  - {name: two, sha256: " + kAlphaDigest +
                           ", tenant: beta}\n";
  absl::StatusOr<ApiKeyTable> table = ApiKeyTable::Parse(yaml);
  EXPECT_TRUE(absl::IsInvalidArgument(table.status()));
  EXPECT_NE(table.status().message().find("two repeats the digest of one"), std::string::npos)
      << table.status();
}

TEST(ApiKeyTable, RefusesAnEmptyOrMissingTenant) {
  absl::StatusOr<ApiKeyTable> empty = ApiKeyTable::Parse(
      std::string("keys:\n  - {name: k, sha256: ") + kAlphaDigest + ", tenant: \"\"}\n");
  EXPECT_TRUE(absl::IsInvalidArgument(empty.status()));
  EXPECT_NE(empty.status().message().find("'tenant' is empty"), std::string::npos)
      << empty.status();

  absl::StatusOr<ApiKeyTable> missing =
      ApiKeyTable::Parse(std::string("keys:\n  - {name: k, sha256: ") + kAlphaDigest + "}\n");
  EXPECT_TRUE(absl::IsInvalidArgument(missing.status()));
  EXPECT_NE(missing.status().message().find("needs a 'tenant'"), std::string::npos)
      << missing.status();
}

TEST(ApiKeyTable, RefusesMalformedDigestsAndFields) {
  EXPECT_TRUE(absl::IsInvalidArgument(
      ApiKeyTable::Parse("keys:\n  - {sha256: abc, tenant: alpha}\n").status()));
  EXPECT_TRUE(
      absl::IsInvalidArgument(ApiKeyTable::Parse(std::string("keys:\n  - {sha256: ") +
                                                 std::string(64, 'g') + ", tenant: alpha}\n")
                                  .status()));
  EXPECT_TRUE(
      absl::IsInvalidArgument(ApiKeyTable::Parse(std::string("keys:\n  - {sha256: ") +
                                                 kAlphaDigest + ", tenant: alpha, admin: maybe}\n")
                                  .status()));
  EXPECT_TRUE(absl::IsInvalidArgument(
      ApiKeyTable::Parse(std::string("keys:\n  - {sha256: ") + kAlphaDigest + ", tenant: [a]}\n")
          .status()));
  EXPECT_TRUE(absl::IsInvalidArgument(ApiKeyTable::Parse("keys:\n  - just-a-string\n").status()));
}

TEST(ApiKeyTable, LoadNamesAMissingFile) {
  absl::StatusOr<ApiKeyTable> table = ApiKeyTable::Load("/nonexistent/keys.yaml");
  EXPECT_TRUE(absl::IsInvalidArgument(table.status()));
  EXPECT_NE(table.status().message().find("/nonexistent/keys.yaml"), std::string::npos);
}

TEST(AuthorizeTenant, AllowsOnlyTheKeysOwnTenant) {
  const ApiKeyGrant alpha{"alpha", "alpha", false};
  EXPECT_TRUE(AuthorizeTenant(alpha, "alpha").ok());
  EXPECT_TRUE(absl::IsPermissionDenied(AuthorizeTenant(alpha, "beta")));
  EXPECT_TRUE(absl::IsPermissionDenied(AuthorizeTenant(alpha, "")));
  EXPECT_TRUE(absl::IsPermissionDenied(AuthorizeTenant(alpha, "Alpha")));

  // An admin key bound to no tenant reads no tenant's documents.
  const ApiKeyGrant ops{"ops", "", true};
  EXPECT_TRUE(absl::IsPermissionDenied(AuthorizeTenant(ops, "alpha")));
  EXPECT_TRUE(absl::IsPermissionDenied(AuthorizeTenant(ops, "")));
}

TEST(AuthorizeAdmin, AllowsOnlyAdminKeys) {
  EXPECT_TRUE(AuthorizeAdmin({"ops", "", true}).ok());
  EXPECT_TRUE(absl::IsPermissionDenied(AuthorizeAdmin({"alpha", "alpha", false})));
}

}  // namespace
}  // namespace quarry::runtime
