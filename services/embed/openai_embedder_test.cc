#include "services/embed/openai_embedder.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "tests/http_test_server.h"

namespace quarry::embed {
namespace {

using ::quarry::testing::HttpHeaders;
using ::quarry::testing::HttpRequest;
using ::quarry::testing::HttpResponse;
using ::quarry::testing::HttpResponseWriter;
using ::quarry::testing::HttpTestServer;
using Json = nlohmann::json;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr int kDimension = 8;

// The fake model: a deterministic, unnormalised vector for each text.
std::vector<float> RawVector(const std::string& text, int dimension = kDimension) {
  const size_t hash = std::hash<std::string>{}(text);
  std::vector<float> vector(dimension);
  for (int j = 0; j < dimension; ++j) {
    vector[j] = static_cast<float>((hash >> (3 * j % 61)) & 7) - 3.5f;
  }
  return vector;
}

std::vector<float> Normalised(std::vector<float> vector) {
  double norm = 0;
  for (float x : vector) norm += static_cast<double>(x) * x;
  for (float& x : vector) x = static_cast<float>(x / std::sqrt(norm));
  return vector;
}

std::vector<std::string> Texts(int count) {
  std::vector<std::string> texts;
  for (int i = 0; i < count; ++i) texts.push_back(absl::StrCat("passage number ", i));
  return texts;
}

struct Answer {
  bool reverse = false;  // list the vectors last text first, as the index allows
  bool with_index = true;
  int dimension = kDimension;
};

// An OpenAI-style answer to an embeddings request.
HttpResponse Embeddings(const HttpRequest& request, const Answer& answer = {}) {
  const Json body = Json::parse(request.body);
  Json data = Json::array();
  for (size_t i = 0; i < body["input"].size(); ++i) {
    Json item = {{"object", "embedding"},
                 {"embedding", RawVector(body["input"][i].get<std::string>(), answer.dimension)}};
    if (answer.with_index) item["index"] = i;
    data.push_back(item);
  }
  if (answer.reverse) std::reverse(data.begin(), data.end());
  const Json reply = {{"object", "list"}, {"data", data}, {"model", body["model"]}};
  return {200, {{"Content-Type", "application/json"}}, reply.dump()};
}

HttpResponse Error(int status, const std::string& message, HttpHeaders headers = {}) {
  headers.emplace_back("Content-Type", "application/json");
  const Json reply = {{"error", {{"message", message}, {"type", "test_error"}}}};
  return {status, std::move(headers), reply.dump()};
}

std::unique_ptr<HttpTestServer> Serve(HttpTestServer::Handler handler) {
  auto server = HttpTestServer::Start(std::move(handler));
  EXPECT_TRUE(server.ok()) << server.status();
  return server.ok() ? std::move(*server) : nullptr;
}

// Small timeouts and backoffs keep the failure tests fast.
OpenAiEmbedder::Options TestOptions(const std::string& server_url) {
  OpenAiEmbedder::Options options;
  options.base_url = server_url + "/v1";
  options.model = "test-embed";
  options.dimension = kDimension;
  options.timeout = milliseconds(5000);
  options.connect_timeout = milliseconds(1000);
  options.max_retries = 2;
  options.initial_backoff = milliseconds(1);
  options.max_backoff = milliseconds(5);
  return options;
}

std::unique_ptr<OpenAiEmbedder> MakeEmbedder(const OpenAiEmbedder::Options& options) {
  auto embedder = OpenAiEmbedder::Create(options);
  EXPECT_TRUE(embedder.ok()) << embedder.status();
  return embedder.ok() ? std::move(*embedder) : nullptr;
}

bool Near(const std::vector<float>& a, const std::vector<float>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::abs(a[i] - b[i]) > 1e-6) return false;
  }
  return true;
}

void ExpectVectorsFor(const std::vector<std::string>& texts,
                      const std::vector<std::vector<float>>& vectors) {
  ASSERT_EQ(vectors.size(), texts.size());
  for (size_t i = 0; i < texts.size(); ++i) {
    const std::vector<float> expected = Normalised(RawVector(texts[i]));
    ASSERT_EQ(vectors[i].size(), expected.size());
    for (size_t j = 0; j < expected.size(); ++j) {
      EXPECT_NEAR(vectors[i][j], expected[j], 1e-6) << "text " << i << ", entry " << j;
    }
  }
}

TEST(OpenAiEmbedder, ReturnsUnitVectorsInInputOrderWhenServerReordersThem) {
  auto server = Serve([](const HttpRequest& request) { return Embeddings(request, {true}); });
  auto embedder = MakeEmbedder(TestOptions(server->url()));

  const std::vector<std::string> texts = Texts(5);
  absl::StatusOr<std::vector<std::vector<float>>> vectors = embedder->Embed(texts);

  ASSERT_TRUE(vectors.ok()) << vectors.status();
  ExpectVectorsFor(texts, *vectors);
  for (const std::vector<float>& vector : *vectors) {
    double norm = 0;
    for (float x : vector) norm += static_cast<double>(x) * x;
    EXPECT_NEAR(norm, 1.0, 1e-5);
  }
  ASSERT_EQ(server->request_count(), 1u);
  const HttpRequest request = server->requests()[0];
  EXPECT_EQ(request.method, "POST");
  EXPECT_EQ(request.path, "/v1/embeddings");
  EXPECT_EQ(request.Header("content-type").value_or(""), "application/json");
}

TEST(OpenAiEmbedder, UsesArrayOrderWhenItemsHaveNoIndex) {
  auto server = Serve([](const HttpRequest& request) {
    Answer answer;
    answer.with_index = false;
    return Embeddings(request, answer);
  });
  auto embedder = MakeEmbedder(TestOptions(server->url()));

  const std::vector<std::string> texts = Texts(3);
  absl::StatusOr<std::vector<std::vector<float>>> vectors = embedder->Embed(texts);

  ASSERT_TRUE(vectors.ok()) << vectors.status();
  ExpectVectorsFor(texts, *vectors);
}

TEST(OpenAiEmbedder, KeepsZeroVectorZero) {
  auto server = Serve([](const HttpRequest&) {
    const Json reply = {{"data", {{{"index", 0}, {"embedding", std::vector<float>(kDimension)}}}}};
    return HttpResponse{200, {}, reply.dump()};
  });
  auto embedder = MakeEmbedder(TestOptions(server->url()));

  absl::StatusOr<std::vector<std::vector<float>>> vectors = embedder->Embed({"nothing"});

  ASSERT_TRUE(vectors.ok()) << vectors.status();
  EXPECT_EQ((*vectors)[0], std::vector<float>(kDimension, 0.0f));
}

TEST(OpenAiEmbedder, SplitsInputIntoBatchesOfBatchSize) {
  auto server = Serve([](const HttpRequest& request) { return Embeddings(request); });
  auto embedder = MakeEmbedder(TestOptions(server->url()));  // batch_size 64 by default

  const std::vector<std::string> texts = Texts(150);
  absl::StatusOr<std::vector<std::vector<float>>> vectors = embedder->Embed(texts);

  ASSERT_TRUE(vectors.ok()) << vectors.status();
  ExpectVectorsFor(texts, *vectors);
  const std::vector<HttpRequest> requests = server->requests();
  ASSERT_EQ(requests.size(), 3u);
  const size_t sizes[] = {64, 64, 22};
  size_t next = 0;
  for (size_t r = 0; r < requests.size(); ++r) {
    const Json body = Json::parse(requests[r].body);
    EXPECT_EQ(body["model"], "test-embed");
    ASSERT_EQ(body["input"].size(), sizes[r]) << "request " << r;
    for (const Json& input : body["input"]) EXPECT_EQ(input, texts[next++]);
  }
}

TEST(OpenAiEmbedder, EmptyInputMakesNoRequest) {
  auto server = Serve([](const HttpRequest& request) { return Embeddings(request); });
  auto embedder = MakeEmbedder(TestOptions(server->url()));

  absl::StatusOr<std::vector<std::vector<float>>> vectors = embedder->Embed({});

  ASSERT_TRUE(vectors.ok()) << vectors.status();
  EXPECT_TRUE(vectors->empty());
  EXPECT_EQ(server->request_count(), 0u);
}

TEST(OpenAiEmbedder, SendsBearerTokenOnlyWhenKeyIsSet) {
  auto server = Serve([](const HttpRequest& request) { return Embeddings(request); });
  OpenAiEmbedder::Options options = TestOptions(server->url());
  auto anonymous = MakeEmbedder(options);
  options.api_key = "sk-test-123";
  auto keyed = MakeEmbedder(options);

  ASSERT_TRUE(anonymous->Embed({"a"}).ok());
  ASSERT_TRUE(keyed->Embed({"b"}).ok());

  const std::vector<HttpRequest> requests = server->requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_FALSE(requests[0].Header("Authorization").has_value());
  EXPECT_EQ(requests[1].Header("authorization").value_or(""), "Bearer sk-test-123");
}

TEST(OpenAiEmbedder, HonoursRetryAfterOnRateLimitThenSucceeds) {
  std::atomic<int> calls{0};
  auto server = Serve([&](const HttpRequest& request) {
    switch (calls++) {
      case 0:
        return Error(429, "slow down", {{"Retry-After", "1"}});
      case 1:
        return Error(429, "slow down", {{"Retry-After", "0"}});
      default:
        return Embeddings(request);
    }
  });
  // Without Retry-After the two retries would wait at least 2 x 2.5 s.
  OpenAiEmbedder::Options options = TestOptions(server->url());
  options.initial_backoff = milliseconds(5000);
  options.max_backoff = milliseconds(5000);
  auto embedder = MakeEmbedder(options);

  const Clock::time_point start = Clock::now();
  absl::StatusOr<std::vector<std::vector<float>>> vectors = embedder->Embed({"x"});
  const milliseconds took = std::chrono::duration_cast<milliseconds>(Clock::now() - start);

  ASSERT_TRUE(vectors.ok()) << vectors.status();
  ExpectVectorsFor({"x"}, *vectors);
  EXPECT_EQ(server->request_count(), 3u);
  EXPECT_GE(took, milliseconds(900));
  EXPECT_LT(took, milliseconds(3500));
}

TEST(OpenAiEmbedder, PersistentRateLimitIsResourceExhausted) {
  auto server = Serve([](const HttpRequest&) { return Error(429, "quota exceeded"); });
  auto embedder = MakeEmbedder(TestOptions(server->url()));  // max_retries 2

  absl::StatusOr<std::vector<std::vector<float>>> vectors = embedder->Embed({"x"});

  EXPECT_EQ(vectors.status().code(), absl::StatusCode::kResourceExhausted) << vectors.status();
  EXPECT_NE(vectors.status().message().find("quota exceeded"), std::string::npos);
  EXPECT_EQ(server->request_count(), 3u);
}

TEST(OpenAiEmbedder, ServerErrorsAreRetriedThenUnavailable) {
  auto server = Serve([](const HttpRequest&) { return Error(500, "model crashed"); });
  OpenAiEmbedder::Options options = TestOptions(server->url());
  options.max_retries = 3;
  auto embedder = MakeEmbedder(options);

  absl::StatusOr<std::vector<std::vector<float>>> vectors = embedder->Embed({"x"});

  ASSERT_EQ(vectors.status().code(), absl::StatusCode::kUnavailable) << vectors.status();
  const std::string message(vectors.status().message());
  EXPECT_NE(message.find(server->url() + "/v1/embeddings"), std::string::npos) << message;
  EXPECT_NE(message.find("500"), std::string::npos) << message;
  EXPECT_NE(message.find("model crashed"), std::string::npos) << message;
  EXPECT_EQ(server->request_count(), 4u);
}

TEST(OpenAiEmbedder, RejectedCredentialsAreNotRetried) {
  auto server = Serve([](const HttpRequest& request) {
    return request.Header("Authorization").has_value() ? Error(403, "not your model")
                                                       : Error(401, "Incorrect API key");
  });
  OpenAiEmbedder::Options options = TestOptions(server->url());
  auto anonymous = MakeEmbedder(options);
  options.api_key = "sk-wrong";
  auto keyed = MakeEmbedder(options);

  const absl::Status unauthenticated = anonymous->Embed({"x"}).status();
  const absl::Status denied = keyed->Embed({"x"}).status();

  EXPECT_EQ(unauthenticated.code(), absl::StatusCode::kUnauthenticated) << unauthenticated;
  EXPECT_NE(unauthenticated.message().find("Incorrect API key"), std::string::npos);
  EXPECT_EQ(denied.code(), absl::StatusCode::kPermissionDenied) << denied;
  EXPECT_EQ(server->request_count(), 2u);
}

TEST(OpenAiEmbedder, ClientErrorsAreNotRetried) {
  std::atomic<int> status{400};
  auto server = Serve([&](const HttpRequest&) {
    // Ollama's shape of error, a bare string, for a change.
    const Json reply = {{"error", absl::StrCat("refused with ", status.load())}};
    return HttpResponse{status.load(), {}, reply.dump()};
  });
  auto embedder = MakeEmbedder(TestOptions(server->url()));

  const absl::Status bad_input = embedder->Embed({"x"}).status();
  status = 404;
  const absl::Status no_model = embedder->Embed({"x"}).status();

  EXPECT_EQ(bad_input.code(), absl::StatusCode::kInvalidArgument) << bad_input;
  EXPECT_NE(bad_input.message().find("refused with 400"), std::string::npos) << bad_input;
  EXPECT_EQ(no_model.code(), absl::StatusCode::kFailedPrecondition) << no_model;
  EXPECT_NE(no_model.message().find("test-embed"), std::string::npos) << no_model;
  EXPECT_EQ(server->request_count(), 2u);
}

TEST(OpenAiEmbedder, TruncatesLongServerMessages) {
  auto server = Serve([](const HttpRequest&) { return Error(400, std::string(5000, 'e')); });
  auto embedder = MakeEmbedder(TestOptions(server->url()));

  const absl::Status status = embedder->Embed({"x"}).status();

  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_LT(status.message().size(), 400u) << status;
}

TEST(OpenAiEmbedder, WrongDimensionNamesBoth) {
  auto server = Serve([](const HttpRequest& request) {
    Answer answer;
    answer.dimension = 768;
    return Embeddings(request, answer);
  });
  OpenAiEmbedder::Options options = TestOptions(server->url());
  options.dimension = 384;
  auto embedder = MakeEmbedder(options);

  const absl::Status status = embedder->Embed({"x", "y"}).status();

  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition) << status;
  EXPECT_NE(status.message().find("768"), std::string::npos) << status;
  EXPECT_NE(status.message().find("384"), std::string::npos) << status;
  EXPECT_EQ(server->request_count(), 1u);
}

TEST(OpenAiEmbedder, MalformedAnswersAreFailedPrecondition) {
  std::atomic<int> variant{0};
  auto server = Serve([&](const HttpRequest& request) -> HttpResponse {
    switch (variant.load()) {
      case 0:
        return {200, {}, "{\"data\": [ {\"index\": 0, \"embed"};  // cut short
      case 1:
        return {200, {}, "<html>gateway</html>"};
      case 2:
        return {200, {}, R"({"object": "list"})"};
      case 3: {  // one vector for two texts
        HttpResponse response = Embeddings(request);
        Json body = Json::parse(response.body);
        body["data"].erase(1);
        response.body = body.dump();
        return response;
      }
      case 4: {  // the same index twice
        HttpResponse response = Embeddings(request);
        Json body = Json::parse(response.body);
        body["data"][1]["index"] = 0;
        response.body = body.dump();
        return response;
      }
      default: {
        Json body = Json::parse(Embeddings(request).body);
        body["data"][0]["embedding"][3] = "NaN";
        return {200, {}, body.dump()};
      }
    }
  });
  auto embedder = MakeEmbedder(TestOptions(server->url()));

  for (int i = 0; i <= 5; ++i) {
    variant = i;
    const absl::Status status = embedder->Embed({"x", "y"}).status();
    EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition) << "variant " << i << status;
  }
  EXPECT_EQ(server->request_count(), 6u);  // none of them is retried
}

TEST(OpenAiEmbedder, StalledServerTimesOutAsUnavailable) {
  auto server = HttpTestServer::StartStreaming([](const HttpRequest&, HttpResponseWriter& writer) {
    writer.WaitForClientClose(milliseconds(20000));
  });
  ASSERT_TRUE(server.ok()) << server.status();
  OpenAiEmbedder::Options options = TestOptions((*server)->url());
  options.timeout = milliseconds(300);
  options.max_retries = 1;
  auto embedder = MakeEmbedder(options);

  const Clock::time_point start = Clock::now();
  const absl::Status status = embedder->Embed({"x"}).status();
  const milliseconds took = std::chrono::duration_cast<milliseconds>(Clock::now() - start);

  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable) << status;
  EXPECT_NE(status.message().find("timed out"), std::string::npos) << status;
  EXPECT_GE(took, milliseconds(500));  // two attempts of 300 ms
  EXPECT_LT(took, milliseconds(5000));
  EXPECT_EQ((*server)->request_count(), 2u);
}

TEST(OpenAiEmbedder, RefusedConnectionIsUnavailable) {
  std::string url;
  {
    auto server = Serve([](const HttpRequest& request) { return Embeddings(request); });
    url = server->url();
  }  // nothing listens on the port any more
  auto embedder = MakeEmbedder(TestOptions(url));

  const absl::Status status = embedder->Embed({"x"}).status();

  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable) << status;
  EXPECT_NE(status.message().find(url + "/v1/embeddings"), std::string::npos) << status;
}

TEST(OpenAiEmbedder, SendsInvalidUtf8AsReplacementCharacters) {
  auto server = Serve([](const HttpRequest& request) { return Embeddings(request); });
  auto embedder = MakeEmbedder(TestOptions(server->url()));

  absl::StatusOr<std::vector<std::vector<float>>> vectors =
      embedder->Embed({"caf\xC3", "\xFF\xFEok", "fine"});

  ASSERT_TRUE(vectors.ok()) << vectors.status();
  EXPECT_EQ(vectors->size(), 3u);
  const Json body = Json::parse(server->requests()[0].body);
  EXPECT_EQ(body["input"][0], "caf\xEF\xBF\xBD");
  EXPECT_EQ(body["input"][1], "\xEF\xBF\xBD\xEF\xBF\xBDok");
  EXPECT_EQ(body["input"][2], "fine");
}

TEST(OpenAiEmbedder, ServesConcurrentCallers) {
  auto server = Serve([](const HttpRequest& request) {
    Answer answer;
    answer.reverse = true;
    return Embeddings(request, answer);
  });
  OpenAiEmbedder::Options options = TestOptions(server->url());
  options.batch_size = 2;
  auto embedder = MakeEmbedder(options);

  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int call = 0; call < 10; ++call) {
        const std::vector<std::string> texts = {absl::StrCat("thread ", t, " call ", call, " a"),
                                                absl::StrCat("thread ", t, " call ", call, " b"),
                                                absl::StrCat("thread ", t, " call ", call, " c")};
        absl::StatusOr<std::vector<std::vector<float>>> vectors = embedder->Embed(texts);
        if (!vectors.ok() || vectors->size() != texts.size() ||
            !Near((*vectors)[2], Normalised(RawVector(texts[2])))) {
          ++failures;
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();

  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(server->request_count(), 4u * 10u * 2u);
}

TEST(OpenAiEmbedder, CreateValidatesOptions) {
  OpenAiEmbedder::Options good;
  good.base_url = "http://127.0.0.1:11434/v1/";
  good.model = "nomic-embed-text";
  good.dimension = 768;
  absl::StatusOr<std::unique_ptr<OpenAiEmbedder>> created = OpenAiEmbedder::Create(good);
  ASSERT_TRUE(created.ok()) << created.status();
  EXPECT_EQ((*created)->name(), "openai:nomic-embed-text");
  EXPECT_EQ((*created)->dimension(), 768);

  struct Case {
    std::function<void(OpenAiEmbedder::Options&)> spoil;
    std::string option;
  };
  const Case cases[] = {
      {[](auto& o) { o.base_url = "127.0.0.1:11434/v1"; }, "base_url"},
      {[](auto& o) { o.base_url = "ftp://host/v1"; }, "base_url"},
      {[](auto& o) { o.model = ""; }, "model"},
      {[](auto& o) { o.dimension = 0; }, "dimension"},
      {[](auto& o) { o.batch_size = 0; }, "batch_size"},
      {[](auto& o) { o.batch_size = 2049; }, "batch_size"},
      {[](auto& o) { o.timeout = milliseconds(0); }, "timeout"},
      {[](auto& o) { o.max_retries = -1; }, "max_retries"},
  };
  for (const Case& c : cases) {
    OpenAiEmbedder::Options options = good;
    c.spoil(options);
    const absl::Status status = OpenAiEmbedder::Create(options).status();
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << c.option;
    EXPECT_NE(status.message().find(c.option), std::string::npos) << status;
  }
}

TEST(OpenAiEmbedder, StripsTrailingSlashFromBaseUrl) {
  auto server = Serve([](const HttpRequest& request) { return Embeddings(request); });
  OpenAiEmbedder::Options options = TestOptions(server->url());
  options.base_url += "/";
  auto embedder = MakeEmbedder(options);

  ASSERT_TRUE(embedder->Embed({"x"}).ok());

  EXPECT_EQ(server->requests()[0].path, "/v1/embeddings");
}

}  // namespace
}  // namespace quarry::embed
