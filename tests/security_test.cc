// TLS, mutual TLS and tenant-bound API keys across real processes: two shards, a router and an
// answer service, all serving mutual TLS with certificates made by the openssl command for the
// run, the router and the answer service checking API keys; clients are the CLI and gRPC stubs.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "quarry/v1/answer.grpc.pb.h"
#include "shard/test_util.h"
#include "tests/quarry_process.h"

namespace quarry {
namespace {

using testing::CommandResult;
using testing::QuarryProcess;
using testing::RunQuarry;

namespace fs = std::filesystem;

constexpr char kAlphaKey[] = "alpha-key-3f9c2e";
constexpr char kBetaKey[] = "beta-key-81d7a0";
constexpr char kAdminKey[] = "admin-key-55be19";

// A CA, a certificate for the services (server and client use, for localhost and 127.0.0.1)
// and one for clients, both signed by it; an untrusted CA with a client certificate of its own;
// and the key file, holding the SHA-256 digests of the keys above.
constexpr char kMakeCredentials[] = R"(set -e
cd "$1"
alpha_key=$2 beta_key=$3 admin_key=$4
curve="-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes"
openssl req -x509 $curve -days 2 -subj "/CN=Quarry Test CA" -keyout ca.key -out ca.pem
openssl req -x509 $curve -days 2 -subj "/CN=Untrusted CA" -keyout rogue-ca.key -out rogue-ca.pem
printf '%s\n' 'subjectAltName=DNS:localhost,IP:127.0.0.1' 'basicConstraints=CA:FALSE' \
    'extendedKeyUsage=serverAuth,clientAuth' > leaf.ext
for pair in "node ca" "client ca" "rogue-client rogue-ca"; do
  set -- $pair
  openssl req -new $curve -subj "/CN=$1" -keyout "$1.key" -out "$1.csr"
  openssl x509 -req -in "$1.csr" -CA "$2.pem" -CAkey "$2.key" -CAcreateserial -days 2 \
      -extfile leaf.ext -out "$1.pem"
done
digest() { printf '%s' "$1" | sha256sum | cut -d' ' -f1; }
cat > keys.yaml <<YAML
keys:
  - {name: alpha-app, sha256: $(digest "$alpha_key"), tenant: alpha}
  - {name: beta-app, sha256: $(digest "$beta_key"), tenant: beta}
  - {name: operator, sha256: $(digest "$admin_key"), admin: true}
YAML
)";

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

class SecurityTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new shard::testing::TempDir();
    const std::string script = Path("make-credentials.sh");
    std::ofstream(script) << kMakeCredentials;
    const std::string command =
        absl::StrCat("bash ", script, " ", dir_->path(), " ", kAlphaKey, " ", kBetaKey, " ",
                     kAdminKey, " >", Path("openssl.log"), " 2>&1");
    ASSERT_EQ(std::system(command.c_str()), 0) << ReadFile(Path("openssl.log"));

    const std::vector<std::string> tls = {"--tls-cert",     Path("node.pem"), "--tls-key",
                                          Path("node.key"), "--tls-ca",       Path("ca.pem")};
    std::vector<std::string> replicas;
    for (int s = 0; s < 2; ++s) {
      std::vector<std::string> args = {
          "--data", Path(absl::StrCat("shard", s)), "--dim", "64", "--shard-id", std::to_string(s)};
      args.insert(args.end(), tls.begin(), tls.end());
      shards_[s] = new QuarryProcess("shard", args);
      shards_[s]->SetChannelCredentials(ClientCredentials("client"));
      const absl::Status started = shards_[s]->Start();
      ASSERT_TRUE(started.ok()) << started;
      replicas.push_back(shards_[s]->address());
    }
    std::ofstream(Path("topology.yaml")) << "shards:\n  - replicas: [" << replicas[0]
                                         << "]\n  - replicas: [" << replicas[1] << "]\n";

    std::vector<std::string> router_args = {"--topology",        Path("topology.yaml"),
                                            "--health-interval", "0.1",
                                            "--api-keys",        Path("keys.yaml")};
    router_args.insert(router_args.end(), tls.begin(), tls.end());
    router_ = new QuarryProcess("router", router_args);
    router_->SetChannelCredentials(ClientCredentials("client"));
    const absl::Status router_started = router_->Start();
    ASSERT_TRUE(router_started.ok()) << router_started;

    std::vector<std::string> answer_args = {"--router", router_->address(), "--api-keys",
                                            Path("keys.yaml")};
    answer_args.insert(answer_args.end(), tls.begin(), tls.end());
    answer_ = new QuarryProcess("answer", answer_args);
    answer_->SetChannelCredentials(ClientCredentials("client"));
    const absl::Status answer_started = answer_->Start();
    ASSERT_TRUE(answer_started.ok()) << answer_started;
  }

  static void TearDownTestSuite() {
    delete answer_;
    delete router_;
    for (QuarryProcess*& shard : shards_) delete shard;
    delete dir_;
  }

  static std::string Path(const std::string& name) { return dir_->path() + "/" + name; }

  // TLS verifying the servers against the test CA, presenting `identity`.pem when not empty.
  static std::shared_ptr<grpc::ChannelCredentials> ClientCredentials(const std::string& identity) {
    grpc::SslCredentialsOptions options;
    options.pem_root_certs = ReadFile(Path("ca.pem"));
    if (!identity.empty()) {
      options.pem_cert_chain = ReadFile(Path(identity + ".pem"));
      options.pem_private_key = ReadFile(Path(identity + ".key"));
    }
    return grpc::SslCredentials(options);
  }

  // A health check of `address` over `credentials`, as any client would make first.
  static grpc::Status CheckHealth(const std::string& address,
                                  std::shared_ptr<grpc::ChannelCredentials> credentials) {
    auto health = grpc::health::v1::Health::NewStub(grpc::CreateChannel(address, credentials));
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
    grpc::health::v1::HealthCheckResponse response;
    return health->Check(&context, grpc::health::v1::HealthCheckRequest(), &response);
  }

  // A context with a deadline and, when `key` is not empty, `authorization: Bearer key`.
  static std::unique_ptr<grpc::ClientContext> Call(const std::string& key) {
    auto context = std::make_unique<grpc::ClientContext>();
    context->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    if (!key.empty()) context->AddMetadata("authorization", "Bearer " + key);
    return context;
  }

  static grpc::Status Search(const std::string& key, const std::string& tenant,
                             v1::RouterSearchResponse* response) {
    v1::RouterSearchRequest request;
    request.set_text("glacier ledger");
    request.set_k(20);
    request.mutable_principal()->set_tenant(tenant);
    return router_->router().Search(Call(key).get(), request, response);
  }

  static grpc::Status Ingest(const std::string& key, const std::string& tenant,
                             const std::string& doc_id) {
    v1::IngestRequest request;
    v1::DocumentChunks* entry = request.add_documents();
    entry->mutable_document()->set_id(doc_id);
    entry->mutable_document()->set_tenant(tenant);
    entry->add_chunks()->set_text("the glacier ledger of " + tenant + " records ice by the ton");
    v1::IngestResponse response;
    return router_->router().Ingest(Call(key).get(), request, &response);
  }

  // The first message of Ask, or the status it ended with.
  static grpc::Status Ask(const std::string& key, const std::string& tenant,
                          v1::AskPrompt* prompt) {
    v1::AskRequest request;
    request.set_question("what does the glacier ledger record");
    request.set_mode(v1::ANSWER_MODE_PROMPT);
    request.mutable_principal()->set_tenant(tenant);
    auto stub = v1::Answer::NewStub(answer_->channel());
    std::unique_ptr<grpc::ClientContext> context = Call(key);
    std::unique_ptr<grpc::ClientReader<v1::AskResponse>> reader = stub->Ask(context.get(), request);
    v1::AskResponse response;
    while (reader->Read(&response)) {
      if (response.has_prompt()) *prompt = response.prompt();
    }
    return reader->Finish();
  }

  // `quarry <args>` with the client certificate and `key` in QUARRY_API_KEY.
  static CommandResult Quarry(std::vector<std::string> args, const std::string& key) {
    args.insert(args.end(), {"--tls-ca", Path("ca.pem"), "--tls-cert", Path("client.pem"),
                             "--tls-key", Path("client.key")});
    return RunQuarry(args, std::chrono::seconds(60), {{"QUARRY_API_KEY", key}});
  }

  static shard::testing::TempDir* dir_;
  static QuarryProcess* shards_[2];
  static QuarryProcess* router_;
  static QuarryProcess* answer_;
};

shard::testing::TempDir* SecurityTest::dir_ = nullptr;
QuarryProcess* SecurityTest::shards_[2] = {nullptr, nullptr};
QuarryProcess* SecurityTest::router_ = nullptr;
QuarryProcess* SecurityTest::answer_ = nullptr;

TEST_F(SecurityTest, PlaintextClientIsRefusedByTlsServers) {
  for (QuarryProcess* server : {shards_[0], router_, answer_}) {
    const grpc::Status status = CheckHealth(server->address(), grpc::InsecureChannelCredentials());
    EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE) << server->address();
  }
  CommandResult search =
      RunQuarry({"search", "glacier", "--router", router_->address(), "--timeout", "3"},
                std::chrono::seconds(30), {{"QUARRY_API_KEY", kAlphaKey}});
  EXPECT_EQ(search.exit_code, 1) << search.out << search.err;
  EXPECT_TRUE(search.out.empty()) << search.out;
}

TEST_F(SecurityTest, ClientWithoutCertificateIsRefusedUnderMutualTls) {
  for (QuarryProcess* server : {shards_[0], router_, answer_}) {
    const grpc::Status status = CheckHealth(server->address(), ClientCredentials(""));
    EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE) << server->address();
  }
  CommandResult search = RunQuarry({"search", "glacier", "--router", router_->address(),
                                    "--timeout", "3", "--tls-ca", Path("ca.pem")},
                                   std::chrono::seconds(30), {{"QUARRY_API_KEY", kAlphaKey}});
  EXPECT_EQ(search.exit_code, 1) << search.out << search.err;
}

TEST_F(SecurityTest, ClientCertificateOfAnUntrustedCaIsRefused) {
  for (QuarryProcess* server : {shards_[0], router_, answer_}) {
    const grpc::Status status = CheckHealth(server->address(), ClientCredentials("rogue-client"));
    EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE) << server->address();
  }
  // The same client with a certificate of the trusted CA gets through, health needing no key.
  EXPECT_TRUE(CheckHealth(router_->address(), ClientCredentials("client")).ok());
  EXPECT_TRUE(CheckHealth(shards_[1]->address(), ClientCredentials("client")).ok());
}

TEST_F(SecurityTest, ServerOfAnUntrustedCaIsRefusedByTheCli) {
  CommandResult search = RunQuarry(
      {"search", "glacier", "--router", router_->address(), "--timeout", "3", "--tls-ca",
       Path("rogue-ca.pem"), "--tls-cert", Path("client.pem"), "--tls-key", Path("client.key")},
      std::chrono::seconds(30), {{"QUARRY_API_KEY", kAlphaKey}});
  EXPECT_EQ(search.exit_code, 1) << search.out << search.err;
}

TEST_F(SecurityTest, ServerMustCarryTheNameTheClientExpects) {
  auto search = [](const std::string& server_name) {
    return Quarry({"search", "glacier", "--tenant", "alpha", "--router", router_->address(),
                   "--timeout", "5", "--tls-server-name", server_name},
                  kAlphaKey);
  };
  CommandResult named = search("localhost");
  EXPECT_EQ(named.exit_code, 0) << named.err;
  CommandResult misnamed = search("shard.elsewhere.example");
  EXPECT_EQ(misnamed.exit_code, 1) << misnamed.out;
}

TEST_F(SecurityTest, MissingOrUnknownKeyIsUnauthenticated) {
  for (const std::string& key : {std::string(), std::string("not-a-known-key")}) {
    v1::RouterSearchResponse found;
    const grpc::Status search = Search(key, "alpha", &found);
    EXPECT_EQ(search.error_code(), grpc::StatusCode::UNAUTHENTICATED) << search.error_message();
    EXPECT_FALSE(absl::StrContains(search.error_message(), "not-a-known-key"));

    const grpc::Status ingest = Ingest(key, "alpha", "unauthenticated-doc");
    EXPECT_EQ(ingest.error_code(), grpc::StatusCode::UNAUTHENTICATED) << ingest.error_message();

    v1::AskPrompt prompt;
    const grpc::Status ask = Ask(key, "alpha", &prompt);
    EXPECT_EQ(ask.error_code(), grpc::StatusCode::UNAUTHENTICATED) << ask.error_message();
    EXPECT_FALSE(absl::StrContains(ask.error_message(), "not-a-known-key"));
  }
  // A key sent without the Bearer scheme is no key.
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  context.AddMetadata("authorization", kAlphaKey);
  v1::RouterSearchRequest request;
  request.set_text("glacier");
  request.set_k(1);
  request.mutable_principal()->set_tenant("alpha");
  v1::RouterSearchResponse found;
  EXPECT_EQ(router_->router().Search(&context, request, &found).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
}

TEST_F(SecurityTest, KeyOfOneTenantNeverActsForAnother) {
  ASSERT_TRUE(Ingest(kAlphaKey, "alpha", "alpha-ledger").ok());
  ASSERT_TRUE(Ingest(kBetaKey, "beta", "beta-ledger").ok());

  // Alpha's key claiming beta is refused on every call that names a tenant.
  v1::RouterSearchResponse found;
  grpc::Status search = Search(kAlphaKey, "beta", &found);
  EXPECT_EQ(search.error_code(), grpc::StatusCode::PERMISSION_DENIED) << search.error_message();
  EXPECT_EQ(found.hits_size(), 0);
  grpc::Status ingest = Ingest(kAlphaKey, "beta", "planted-in-beta");
  EXPECT_EQ(ingest.error_code(), grpc::StatusCode::PERMISSION_DENIED) << ingest.error_message();

  v1::DocumentVersionsRequest versions_request;
  versions_request.set_tenant("beta");
  versions_request.add_doc_ids("beta-ledger");
  v1::DocumentVersionsResponse versions;
  EXPECT_EQ(router_->router()
                .GetDocumentVersions(Call(kAlphaKey).get(), versions_request, &versions)
                .error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(versions.documents_size(), 0);

  v1::RouterDeleteRequest delete_request;
  delete_request.set_tenant("beta");
  delete_request.add_doc_ids("beta-ledger");
  v1::RouterDeleteResponse deleted;
  EXPECT_EQ(router_->router().Delete(Call(kAlphaKey).get(), delete_request, &deleted).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);

  // One request may not mix its own tenant's documents with another's.
  v1::IngestRequest mixed;
  for (const char* tenant : {"alpha", "beta"}) {
    v1::DocumentChunks* entry = mixed.add_documents();
    entry->mutable_document()->set_id(absl::StrCat("mixed-", tenant));
    entry->mutable_document()->set_tenant(tenant);
    entry->add_chunks()->set_text("mixed batch");
  }
  v1::IngestResponse mixed_response;
  EXPECT_EQ(router_->router().Ingest(Call(kAlphaKey).get(), mixed, &mixed_response).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);

  // Through the answer service too, which checks and then passes the key on to the router.
  v1::AskPrompt prompt;
  grpc::Status ask = Ask(kAlphaKey, "beta", &prompt);
  EXPECT_EQ(ask.error_code(), grpc::StatusCode::PERMISSION_DENIED) << ask.error_message();
  EXPECT_EQ(prompt.sources_size(), 0);

  // Each key sees its own tenant's documents, and only those.
  for (const auto& [key, tenant] : {std::pair(kAlphaKey, "alpha"), std::pair(kBetaKey, "beta")}) {
    v1::RouterSearchResponse own;
    ASSERT_TRUE(Search(key, tenant, &own).ok()) << tenant;
    ASSERT_GT(own.hits_size(), 0) << tenant;
    for (const v1::Hit& hit : own.hits()) EXPECT_EQ(hit.doc_id(), absl::StrCat(tenant, "-ledger"));

    v1::AskPrompt own_prompt;
    ASSERT_TRUE(Ask(key, tenant, &own_prompt).ok()) << tenant;
    ASSERT_GT(own_prompt.sources_size(), 0) << tenant;
    for (const v1::AnswerSource& source : own_prompt.sources()) {
      EXPECT_EQ(source.doc_id(), absl::StrCat(tenant, "-ledger"));
    }
  }
}

TEST_F(SecurityTest, StatusAndBackupNeedAnAdminKey) {
  v1::GetStatusResponse status;
  EXPECT_EQ(router_->router()
                .GetStatus(Call(kAlphaKey).get(), v1::GetStatusRequest(), &status)
                .error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(status.shards_size(), 0);
  EXPECT_TRUE(
      router_->router().GetStatus(Call(kAdminKey).get(), v1::GetStatusRequest(), &status).ok());
  EXPECT_EQ(status.shards_size(), 2);

  // A backup copies every tenant's documents: a tenant's key cannot take one.
  v1::ClusterBackupRequest backup;
  backup.set_directory(Path("backup"));
  v1::ClusterBackupResponse backed_up;
  EXPECT_EQ(router_->router().Backup(Call(kAlphaKey).get(), backup, &backed_up).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(router_->router().Backup(Call("").get(), backup, &backed_up).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_FALSE(fs::exists(Path("backup/cluster-backup.json")));

  // An admin key bound to no tenant reads no tenant's documents.
  v1::RouterSearchResponse found;
  EXPECT_EQ(Search(kAdminKey, "alpha", &found).error_code(), grpc::StatusCode::PERMISSION_DENIED);
}

TEST_F(SecurityTest, CliIngestsSearchesAndAsksOverMutualTlsWithinItsTenant) {
  const fs::path docs = fs::path(dir_->path()) / "docs";
  fs::create_directories(docs / "alpha");
  fs::create_directories(docs / "beta");
  std::ofstream(docs / "alpha" / "orchard.md")
      << "# Orchard\n\nThe alpha orchard grows pears along the river terraces.\n";
  std::ofstream(docs / "beta" / "orchard.md")
      << "# Orchard\n\nThe beta orchard grows plums along the river terraces.\n";

  CommandResult alpha_ingest = Quarry(
      {"ingest", (docs / "alpha").string(), "--tenant", "alpha", "--router", router_->address()},
      kAlphaKey);
  ASSERT_EQ(alpha_ingest.exit_code, 0) << alpha_ingest.out << alpha_ingest.err;
  CommandResult beta_ingest = Quarry(
      {"ingest", (docs / "beta").string(), "--tenant", "beta", "--router", router_->address()},
      kBetaKey);
  ASSERT_EQ(beta_ingest.exit_code, 0) << beta_ingest.out << beta_ingest.err;

  // Alpha's key may not write into beta.
  CommandResult planted = Quarry(
      {"ingest", (docs / "alpha").string(), "--tenant", "beta", "--router", router_->address()},
      kAlphaKey);
  EXPECT_EQ(planted.exit_code, 1);
  EXPECT_TRUE(absl::StrContains(planted.err, "cannot act for tenant 'beta'")) << planted.err;

  for (const auto& [key, tenant] : {std::pair(kAlphaKey, "alpha"), std::pair(kBetaKey, "beta")}) {
    CommandResult search = Quarry({"search", "orchard river terraces", "--json", "--tenant", tenant,
                                   "--router", router_->address()},
                                  key);
    ASSERT_EQ(search.exit_code, 0) << search.err;
    const nlohmann::json found = nlohmann::json::parse(search.out, nullptr, false);
    ASSERT_FALSE(found.is_discarded()) << search.out;
    // Only the key's tenant's documents: its file, and the one ingested over gRPC above.
    const std::string other = tenant == std::string("alpha") ? "beta" : "alpha";
    bool own_file = false;
    for (const nlohmann::json& hit : found["hits"]) {
      const std::string source = hit["source"];
      const std::string doc_id = hit["doc_id"];
      own_file |= absl::StrContains(source, absl::StrCat("/", tenant, "/orchard.md"));
      EXPECT_FALSE(absl::StrContains(source, absl::StrCat("/", other, "/"))) << source;
      EXPECT_FALSE(absl::StrContains(doc_id, other)) << doc_id;
    }
    EXPECT_TRUE(own_file) << search.out;

    CommandResult ask = Quarry({"ask", "what grows along the river terraces", "--json", "--tenant",
                                tenant, "--answer", answer_->address()},
                               key);
    ASSERT_EQ(ask.exit_code, 0) << ask.err;
    const nlohmann::json answer = nlohmann::json::parse(ask.out, nullptr, false);
    ASSERT_FALSE(answer.is_discarded()) << ask.out;
    ASSERT_FALSE(answer["sources"].empty()) << ask.out;
    EXPECT_TRUE(absl::StrContains(answer["answer"].get<std::string>(),
                                  tenant == std::string("alpha") ? "pears" : "plums"))
        << ask.out;
  }

  CommandResult denied =
      Quarry({"search", "orchard", "--tenant", "beta", "--router", router_->address()}, kAlphaKey);
  EXPECT_EQ(denied.exit_code, 1);
  EXPECT_TRUE(denied.out.empty()) << denied.out;
  EXPECT_TRUE(absl::StrContains(denied.err, "cannot act for tenant 'beta'")) << denied.err;

  CommandResult status = Quarry({"status", "--json", "--router", router_->address()}, kAdminKey);
  EXPECT_EQ(status.exit_code, 0) << status.err;
  CommandResult tenant_status = Quarry({"status", "--router", router_->address()}, kAlphaKey);
  EXPECT_EQ(tenant_status.exit_code, 1);
  EXPECT_TRUE(absl::StrContains(tenant_status.err, "not an admin key")) << tenant_status.err;
}

TEST(SecurityStartup, UnusableTlsFilesStopAServiceNamingTheFile) {
  shard::testing::TempDir dir;
  const std::string make = absl::StrCat(
      "cd ", dir.path(),
      " && for n in a b; do openssl req -x509 -newkey ec -pkeyopt "
      "ec_paramgen_curve:prime256v1 -nodes -days 1 -subj /CN=$n -keyout $n.key -out $n.pem; "
      "done >/dev/null 2>&1 && echo text > text.pem");
  ASSERT_EQ(std::system(make.c_str()), 0);
  const std::string data = dir.path() + "/data";
  auto shard = [&](const std::string& cert, const std::string& key, const std::string& ca) {
    std::vector<std::string> args = {"shard",
                                     "--listen",
                                     "127.0.0.1:0",
                                     "--data",
                                     data,
                                     "--dim",
                                     "8",
                                     "--tls-cert",
                                     dir.path() + "/" + cert,
                                     "--tls-key",
                                     dir.path() + "/" + key};
    if (!ca.empty()) args.insert(args.end(), {"--tls-ca", dir.path() + "/" + ca});
    return RunQuarry(args, std::chrono::seconds(30));
  };

  CommandResult missing = shard("none.pem", "a.key", "");
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_TRUE(absl::StrContains(missing.err, "--tls-cert file " + dir.path() + "/none.pem"))
      << missing.err;

  CommandResult not_pem = shard("a.pem", "a.key", "text.pem");
  EXPECT_EQ(not_pem.exit_code, 2);
  EXPECT_TRUE(absl::StrContains(not_pem.err, "--tls-ca file " + dir.path() + "/text.pem"))
      << not_pem.err;

  CommandResult mismatched = shard("a.pem", "b.key", "");
  EXPECT_EQ(mismatched.exit_code, 2);
  EXPECT_TRUE(absl::StrContains(mismatched.err, "does not belong to the certificate"))
      << mismatched.err;

  std::ofstream(dir.path() + "/topology.yaml") << "shards:\n  - replicas: [127.0.0.1:1]\n";
  CommandResult keys =
      RunQuarry({"router", "--listen", "127.0.0.1:0", "--topology", dir.path() + "/topology.yaml",
                 "--api-keys", dir.path() + "/a.pem"},
                std::chrono::seconds(30));
  EXPECT_EQ(keys.exit_code, 2) << keys.err;
  EXPECT_TRUE(absl::StrContains(keys.err, dir.path() + "/a.pem")) << keys.err;
}

}  // namespace
}  // namespace quarry
