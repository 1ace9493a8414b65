// The real `quarry shard` binary over gRPC: health, the ACL matrix, bad input, start-up
// errors and a clean shutdown.
#include <gtest/gtest.h>

#include "shard/test_util.h"
#include "tests/quarry_process.h"

namespace quarry {
namespace {

using shard::testing::MakeDocument;
using shard::testing::MakeSearch;
using shard::testing::RandomVector;
using shard::testing::TempDir;
using testing::ShardProcess;

constexpr int kDim = 32;

std::vector<std::string> ShardArgs(const std::string& data, const std::string& spec = "HNSW16") {
  return {"--data", data, "--dim", std::to_string(kDim), "--index", spec, "--max-k", "50"};
}

grpc::Status Call(ShardProcess& shard, const v1::UpsertRequest& request,
                  v1::UpsertResponse* response = nullptr) {
  v1::UpsertResponse ignored;
  grpc::ClientContext context;
  return shard.stub().Upsert(&context, request, response ? response : &ignored);
}

grpc::Status Call(ShardProcess& shard, const v1::SearchRequest& request,
                  v1::SearchResponse* response) {
  grpc::ClientContext context;
  return shard.stub().Search(&context, request, response);
}

class ShardBinaryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    process_ = std::make_unique<ShardProcess>(ShardArgs(dir_.path()));
    absl::Status started = process_->Start();
    ASSERT_TRUE(started.ok()) << started;
  }

  TempDir dir_;
  std::unique_ptr<ShardProcess> process_;
};

TEST_F(ShardBinaryTest, AclMatrixHoldsOverGrpc) {
  v1::UpsertRequest request;
  *request.add_documents() = MakeDocument("acme", "handbook", 1, kDim, 1);
  *request.add_documents() = MakeDocument("acme", "salaries", 1, kDim, 2, {"hr", "finance"});
  *request.add_documents() = MakeDocument("globex", "plans", 1, kDim, 3);
  ASSERT_TRUE(Call(*process_, request).ok());

  struct Case {
    std::string tenant;
    std::vector<std::string> groups;
    std::vector<std::string> visible;
  } cases[] = {
      {"acme", {}, {"handbook"}},                       // public chunk only
      {"acme", {"eng"}, {"handbook"}},                  // group mismatch
      {"acme", {"finance"}, {"handbook", "salaries"}},  // shares one group
      {"globex", {"hr"}, {"plans"}},                    // tenant mismatch hides acme's
      {"initech", {"hr"}, {}},                          // unknown tenant sees nothing
  };
  for (const Case& c : cases) {
    v1::SearchResponse response;
    ASSERT_TRUE(
        Call(*process_, MakeSearch(RandomVector(kDim, 2), 10, c.tenant, c.groups), &response).ok());
    std::vector<std::string> docs;
    for (const v1::Hit& hit : response.hits()) docs.push_back(hit.doc_id());
    std::sort(docs.begin(), docs.end());
    EXPECT_EQ(docs, c.visible) << c.tenant;
  }
}

TEST_F(ShardBinaryTest, BadInputIsInvalidArgumentNamingTheProblem) {
  auto expect_invalid = [](const grpc::Status& status, const std::string& words) {
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << status.error_message();
    EXPECT_NE(status.error_message().find(words), std::string::npos) << status.error_message();
  };
  v1::UpsertRequest wrong_dim;
  *wrong_dim.add_documents() = MakeDocument("acme", "a", 1, kDim + 1, 1);
  expect_invalid(Call(*process_, wrong_dim), "this shard's dimension is 32");

  v1::UpsertRequest nan;
  *nan.add_documents() = MakeDocument("acme", "a", 1, kDim, 1);
  nan.mutable_documents(0)->mutable_chunks(0)->set_vector(3, NAN);
  expect_invalid(Call(*process_, nan), "non-finite");

  v1::UpsertRequest no_tenant;
  *no_tenant.add_documents() = MakeDocument("", "a", 1, kDim, 1);
  expect_invalid(Call(*process_, no_tenant), "tenant is missing");

  v1::UpsertRequest duplicate;
  *duplicate.add_documents() = MakeDocument("acme", "a", 1, kDim, 1);
  *duplicate.add_documents() = MakeDocument("acme", "a", 1, kDim, 1);
  expect_invalid(Call(*process_, duplicate), "appears twice");

  v1::SearchResponse response;
  expect_invalid(Call(*process_, MakeSearch(RandomVector(kDim, 1), 51, "acme"), &response),
                 "from 1 to 50");
  expect_invalid(Call(*process_, MakeSearch(RandomVector(kDim, 1), 0, "acme"), &response),
                 "k is 0");
  expect_invalid(Call(*process_, MakeSearch(RandomVector(kDim, 1), 5, ""), &response),
                 "principal.tenant");

  // Larger than the server's message limit: refused by gRPC itself, nothing written.
  v1::UpsertRequest huge;
  *huge.add_documents() = MakeDocument("acme", "huge", 1, kDim, 1);
  huge.mutable_documents(0)->mutable_chunks(0)->set_text(std::string(70 << 20, 'x'));
  EXPECT_EQ(Call(*process_, huge).error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);

  grpc::ClientContext context;
  v1::StatsResponse stats;
  ASSERT_TRUE(process_->stub().Stats(&context, v1::StatsRequest(), &stats).ok());
  EXPECT_EQ(stats.chunks(), 0u);
  EXPECT_EQ(stats.sequence(), 0u);
}

TEST_F(ShardBinaryTest, SigtermSnapshotsAndTheNextStartLoadsIt) {
  v1::UpsertRequest request;
  for (int i = 0; i < 50; ++i) {
    *request.add_documents() = MakeDocument("acme", "doc" + std::to_string(i), 3, kDim, i * 10);
  }
  ASSERT_TRUE(Call(*process_, request).ok());
  EXPECT_EQ(process_->Terminate(), 0) << process_->Log();
  EXPECT_NE(process_->Log().find("stopped cleanly"), std::string::npos);

  ShardProcess again(ShardArgs(dir_.path()));
  ASSERT_TRUE(again.Start().ok());
  EXPECT_NE(again.Log().find("loaded index snapshot"), std::string::npos) << again.Log();
  v1::SearchResponse response;
  ASSERT_TRUE(Call(again, MakeSearch(RandomVector(kDim, 421), 1, "acme"), &response).ok());
  ASSERT_EQ(response.hits_size(), 1);
  EXPECT_EQ(response.hits(0).doc_id(), "doc42");
  EXPECT_EQ(again.Terminate(), 0);
}

TEST(ShardBinaryStartup, RefusesBadConfigurationWithAClearMessage) {
  TempDir dir;
  ShardProcess bad_spec(ShardArgs(dir.path(), "IVF12,Bogus"));
  absl::Status started = bad_spec.Start();
  ASSERT_FALSE(started.ok());
  EXPECT_NE(started.message().find("IVF12,Bogus"), absl::string_view::npos) << started;

  {
    ShardProcess first(ShardArgs(dir.path()));
    ASSERT_TRUE(first.Start().ok());
    EXPECT_EQ(first.Terminate(), 0);
  }
  std::vector<std::string> other_dim = ShardArgs(dir.path());
  other_dim[3] = "64";
  ShardProcess wrong(other_dim);
  started = wrong.Start();
  ASSERT_FALSE(started.ok());
  EXPECT_NE(started.message().find("dimension 32"), absl::string_view::npos) << started;
}

}  // namespace
}  // namespace quarry
