// The router with `--embedder openai` against a real HTTP server that speaks the OpenAI
// embeddings JSON: text in, vectors from the endpoint, search by text finds the passage that
// shares its words; a model of the wrong dimension and a missing endpoint are clear errors.
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "tests/http_test_server.h"
#include "tests/test_cluster.h"

namespace quarry {
namespace {

using Json = nlohmann::json;
using testing::HttpRequest;
using testing::HttpResponse;
using testing::HttpTestServer;
using testing::TestCluster;

constexpr int kDim = 32;

// The fake model: a bag of lower-cased words hashed into `dimension` buckets, unnormalised
// (the router normalises).
std::vector<float> BagOfWords(const std::string& text, int dimension) {
  std::vector<float> vector(dimension, 0.0f);
  for (absl::string_view word : absl::StrSplit(text, ' ', absl::SkipEmpty())) {
    std::string lower(word);
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char c) { return std::tolower(c); });
    vector[std::hash<std::string>{}(lower) % dimension] += 1.0f;
  }
  return vector;
}

HttpResponse Embeddings(const HttpRequest& request, int dimension) {
  const Json body = Json::parse(request.body, nullptr, /*allow_exceptions=*/false);
  if (!body.is_object() || !body.contains("input") || !body["input"].is_array()) {
    return {400, {}, R"({"error":{"message":"input must be an array"}})"};
  }
  Json data = Json::array();
  for (size_t i = 0; i < body["input"].size(); ++i) {
    data.push_back({{"object", "embedding"},
                    {"index", i},
                    {"embedding", BagOfWords(body["input"][i].get<std::string>(), dimension)}});
  }
  const Json reply = {{"object", "list"}, {"data", data}, {"model", body["model"]}};
  return {200, {{"Content-Type", "application/json"}}, reply.dump()};
}

std::unique_ptr<HttpTestServer> ServeModel(int dimension) {
  auto server = HttpTestServer::Start(
      [dimension](const HttpRequest& request) { return Embeddings(request, dimension); });
  EXPECT_TRUE(server.ok()) << server.status();
  return server.ok() ? std::move(*server) : nullptr;
}

std::vector<std::string> OpenAiFlags(const HttpTestServer& server) {
  return {"--embedder",    "openai",     "--embed-url",     server.url() + "/v1",
          "--embed-model", "fake-embed", "--embed-retries", "0"};
}

v1::DocumentChunks TextDocument(const std::string& id, const std::string& text) {
  v1::DocumentChunks document;
  document.mutable_document()->set_id(id);
  document.mutable_document()->set_tenant("acme");
  document.mutable_document()->set_title(id);
  v1::Chunk* chunk = document.add_chunks();
  chunk->set_text(text);
  return document;
}

grpc::Status Ingest(TestCluster& cluster, const std::vector<v1::DocumentChunks>& documents) {
  v1::IngestRequest request;
  for (const v1::DocumentChunks& document : documents) *request.add_documents() = document;
  v1::IngestResponse response;
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  return cluster.router().router().Ingest(&context, request, &response);
}

TEST(RouterEmbedder, SearchByTextUsesTheEndpointsVectors) {
  std::unique_ptr<HttpTestServer> model = ServeModel(kDim);
  ASSERT_NE(model, nullptr);
  TestCluster cluster(2, 1, kDim);
  ASSERT_TRUE(cluster.Start(OpenAiFlags(*model)).ok());

  ASSERT_TRUE(Ingest(cluster, {TextDocument("zebra", "zebra stripes herd savanna"),
                               TextDocument("vacuum", "vacuum full table lock rewrite"),
                               TextDocument("index", "partial index predicate rows")})
                  .ok());

  v1::RouterSearchRequest query;
  query.set_text("which lock does vacuum full take");
  query.set_k(3);
  query.set_include_text(true);
  query.mutable_principal()->set_tenant("acme");
  v1::RouterSearchResponse response;
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  ASSERT_TRUE(cluster.router().router().Search(&context, query, &response).ok());
  ASSERT_FALSE(response.hits().empty());
  EXPECT_EQ(response.hits(0).doc_id(), "vacuum");
  EXPECT_FALSE(response.partial());

  // Every request named the model, and the query text reached the endpoint as sent.
  bool saw_query = false;
  for (const HttpRequest& request : model->requests()) {
    EXPECT_EQ(request.path, "/v1/embeddings");
    const Json body = Json::parse(request.body);
    EXPECT_EQ(body["model"], "fake-embed");
    for (const Json& input : body["input"]) {
      saw_query |= input.get<std::string>() == "which lock does vacuum full take";
    }
  }
  EXPECT_TRUE(saw_query);
}

TEST(RouterEmbedder, ModelOfAnotherDimensionIsRefusedWithBothNumbers) {
  std::unique_ptr<HttpTestServer> model = ServeModel(kDim * 2);
  ASSERT_NE(model, nullptr);
  TestCluster cluster(1, 1, kDim);
  ASSERT_TRUE(cluster.Start(OpenAiFlags(*model)).ok());

  grpc::Status status = Ingest(cluster, {TextDocument("zebra", "zebra stripes")});
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << status.error_message();
  EXPECT_TRUE(absl::StrContains(status.error_message(), std::to_string(kDim)))
      << status.error_message();
  EXPECT_TRUE(absl::StrContains(status.error_message(), std::to_string(kDim * 2)))
      << status.error_message();
}

TEST(RouterEmbedder, EndpointDownIsUnavailableNotAHang) {
  std::unique_ptr<HttpTestServer> model = ServeModel(kDim);
  ASSERT_NE(model, nullptr);
  std::vector<std::string> flags = OpenAiFlags(*model);
  model.reset();  // nothing listens on that port any more
  TestCluster cluster(1, 1, kDim);
  ASSERT_TRUE(cluster.Start(flags).ok());

  const auto start = std::chrono::steady_clock::now();
  grpc::Status status = Ingest(cluster, {TextDocument("zebra", "zebra stripes")});
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE) << status.error_message();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(20));
}

TEST(RouterEmbedder, OpenAiWithoutEndpointStopsStartUp) {
  testing::CommandResult result =
      testing::RunQuarry({"router", "--topology", "/nonexistent.yaml", "--embedder", "openai"});
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_TRUE(absl::StrContains(result.err, "--embed-url")) << result.err;
}

}  // namespace
}  // namespace quarry
