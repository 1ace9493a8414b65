#include "services/runtime/tls.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "absl/strings/str_cat.h"

namespace quarry::runtime {
namespace {

// A directory with two self-signed certificates and their keys (a.pem/a.key, b.pem/b.key)
// made by the openssl command, and a file that is not PEM.
class TlsFilesTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    const char* base = std::getenv("TEST_TMPDIR");
    std::string pattern = std::string(base ? base : "/tmp") + "/quarry-tls-XXXXXX";
    dir_ = new std::string(mkdtemp(pattern.data()));
    for (const char* name : {"a", "b"}) {
      const std::string command = absl::StrCat(
          "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 "
          "-subj /CN=",
          name, " -keyout ", *dir_, "/", name, ".key -out ", *dir_, "/", name,
          ".pem >/dev/null 2>&1");
      ASSERT_EQ(std::system(command.c_str()), 0) << command;
    }
    std::ofstream(*dir_ + "/text.pem") << "not a certificate\n";
  }
  static void TearDownTestSuite() {
    std::error_code ignored;
    std::filesystem::remove_all(*dir_, ignored);
    delete dir_;
  }
  static std::string Path(const std::string& name) { return *dir_ + "/" + name; }

  static std::string* dir_;
};

std::string* TlsFilesTest::dir_ = nullptr;

TEST_F(TlsFilesTest, NothingSetIsPlaintext) {
  absl::StatusOr<TlsConfig> tls = TlsConfig::Load({}, TlsRole::kService);
  ASSERT_TRUE(tls.ok()) << tls.status();
  EXPECT_FALSE(tls->enabled());
  EXPECT_EQ(tls->Describe(), "plaintext");
}

TEST_F(TlsFilesTest, CertificateKeyAndCaMakeMutualTls) {
  absl::StatusOr<TlsConfig> tls =
      TlsConfig::Load({Path("a.pem"), Path("a.key"), Path("b.pem"), ""}, TlsRole::kService);
  ASSERT_TRUE(tls.ok()) << tls.status();
  EXPECT_TRUE(tls->enabled());
  EXPECT_TRUE(tls->mutual());
  EXPECT_NE(tls->ServerCredentials(), nullptr);
}

TEST_F(TlsFilesTest, ClientWithOnlyACaUsesTls) {
  absl::StatusOr<TlsConfig> tls = TlsConfig::Load({"", "", Path("a.pem"), ""}, TlsRole::kClient);
  ASSERT_TRUE(tls.ok()) << tls.status();
  EXPECT_TRUE(tls->enabled());
  EXPECT_FALSE(tls->mutual());
}

TEST_F(TlsFilesTest, MissingFileIsNamed) {
  absl::StatusOr<TlsConfig> tls =
      TlsConfig::Load({Path("none.pem"), Path("a.key"), "", ""}, TlsRole::kService);
  EXPECT_TRUE(absl::IsInvalidArgument(tls.status()));
  EXPECT_NE(tls.status().message().find("--tls-cert file " + Path("none.pem")), std::string::npos)
      << tls.status();
}

TEST_F(TlsFilesTest, FileThatIsNotPemIsNamed) {
  absl::StatusOr<TlsConfig> ca = TlsConfig::Load({"", "", Path("text.pem"), ""}, TlsRole::kClient);
  EXPECT_TRUE(absl::IsInvalidArgument(ca.status()));
  EXPECT_NE(ca.status().message().find("--tls-ca file " + Path("text.pem")), std::string::npos)
      << ca.status();

  absl::StatusOr<TlsConfig> key =
      TlsConfig::Load({Path("a.pem"), Path("text.pem"), "", ""}, TlsRole::kService);
  EXPECT_TRUE(absl::IsInvalidArgument(key.status()));
  EXPECT_NE(key.status().message().find("--tls-key file " + Path("text.pem")), std::string::npos)
      << key.status();
}

TEST_F(TlsFilesTest, KeyOfAnotherCertificateIsRefused) {
  absl::StatusOr<TlsConfig> tls =
      TlsConfig::Load({Path("a.pem"), Path("b.key"), "", ""}, TlsRole::kService);
  EXPECT_TRUE(absl::IsInvalidArgument(tls.status()));
  EXPECT_NE(tls.status().message().find("does not belong to the certificate"), std::string::npos)
      << tls.status();
}

TEST_F(TlsFilesTest, CertificateAndKeyGoTogether) {
  EXPECT_TRUE(absl::IsInvalidArgument(
      TlsConfig::Load({Path("a.pem"), "", "", ""}, TlsRole::kClient).status()));
  EXPECT_TRUE(absl::IsInvalidArgument(
      TlsConfig::Load({"", Path("a.key"), "", ""}, TlsRole::kService).status()));
}

TEST_F(TlsFilesTest, ServiceNeedsItsOwnCertificateForACa) {
  absl::StatusOr<TlsConfig> tls = TlsConfig::Load({"", "", Path("a.pem"), ""}, TlsRole::kService);
  EXPECT_TRUE(absl::IsInvalidArgument(tls.status()));
}

}  // namespace
}  // namespace quarry::runtime
