#include "services/answer/chat_completion_client.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "tests/http_test_server.h"

namespace quarry::answer {
namespace {

using ::quarry::testing::HttpRequest;
using ::quarry::testing::HttpResponse;
using ::quarry::testing::HttpResponseWriter;
using ::quarry::testing::HttpTestServer;
using Json = nlohmann::json;
using std::chrono::milliseconds;

// One OpenAI-style streaming chunk carrying `content`.
std::string Chunk(const std::string& content, const char* finish_reason = nullptr) {
  Json chunk = {{"id", "chatcmpl-1"},
                {"object", "chat.completion.chunk"},
                {"choices", {{{"index", 0}, {"delta", {{"content", content}}}}}}};
  if (finish_reason != nullptr) chunk["choices"][0]["finish_reason"] = finish_reason;
  return absl::StrCat("data: ", chunk.dump(), "\n\n");
}

std::unique_ptr<ChatCompletionClient> Client(const std::string& url,
                                             ChatCompletionClient::Options options = {}) {
  options.base_url = url + "/v1";
  absl::StatusOr<std::unique_ptr<ChatCompletionClient>> client =
      ChatCompletionClient::Create(std::move(options));
  EXPECT_TRUE(client.ok()) << client.status();
  return client.ok() ? *std::move(client) : nullptr;
}

const std::vector<ChatMessage> kMessages = {{"system", "Be brief."}, {"user", "Hi?"}};

absl::StatusOr<ChatCompletionClient::Result> Stream(ChatCompletionClient& client,
                                                    std::vector<std::string>* deltas) {
  ChatCompletionClient::Request request{"gpt-4o-mini", kMessages};
  return client.Stream(
      request,
      [&](absl::string_view text) {
        deltas->emplace_back(text);
        return true;
      },
      [] { return false; });
}

TEST(ChatCompletionClient, SendsAStreamingRequestAndHandsOverEveryDelta) {
  auto server = HttpTestServer::StartStreaming([](const HttpRequest&, HttpResponseWriter& writer) {
    writer.WriteHead(200, {{"Content-Type", "text/event-stream"}});
    writer.Write(": keep-alive\n\n");
    writer.Write(Chunk("Hel"));
    // An event split across two writes, with CRLF line ends.
    const std::string split = Chunk("lo");
    writer.Write(split.substr(0, 20));
    writer.Write(split.substr(20));
    writer.Write("data: {\"choices\":[{\"delta\":{\"role\":\"assistant\"}}]}\r\n\r\n");
    writer.Write(Chunk(" [1]", "stop"));
    writer.Write("data: [DONE]\n\n");
  });
  ASSERT_TRUE(server.ok());
  ChatCompletionClient::Options options;
  options.api_key = "sk-test";
  auto client = Client((*server)->url(), options);

  std::vector<std::string> deltas;
  absl::StatusOr<ChatCompletionClient::Result> result = Stream(*client, &deltas);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(deltas, (std::vector<std::string>{"Hel", "lo", " [1]"}));
  EXPECT_EQ(result->finish_reason, "stop");

  const std::vector<HttpRequest> requests = (*server)->requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].path, "/v1/chat/completions");
  EXPECT_EQ(requests[0].Header("Authorization"), "Bearer sk-test");
  const Json body = Json::parse(requests[0].body);
  EXPECT_EQ(body["model"], "gpt-4o-mini");
  EXPECT_EQ(body["stream"], true);
  EXPECT_EQ(
      body["messages"],
      Json::parse(R"([{"role":"system","content":"Be brief."},{"role":"user","content":"Hi?"}])"));
}

TEST(ChatCompletionClient, MapsHttpErrorsToStatuses) {
  struct Case {
    int http;
    absl::StatusCode code;
  };
  for (const Case& c :
       {Case{429, absl::StatusCode::kResourceExhausted}, Case{500, absl::StatusCode::kUnavailable},
        Case{503, absl::StatusCode::kUnavailable}, Case{401, absl::StatusCode::kUnauthenticated},
        Case{403, absl::StatusCode::kPermissionDenied},
        Case{404, absl::StatusCode::kFailedPrecondition},
        Case{400, absl::StatusCode::kInvalidArgument}}) {
    auto server = HttpTestServer::Start([&](const HttpRequest&) {
      return HttpResponse{c.http,
                          {{"Content-Type", "application/json"}},
                          R"({"error":{"message":"the reason given"}})"};
    });
    ASSERT_TRUE(server.ok());
    auto client = Client((*server)->url());
    std::vector<std::string> deltas;
    absl::StatusOr<ChatCompletionClient::Result> result = Stream(*client, &deltas);
    ASSERT_FALSE(result.ok()) << c.http;
    EXPECT_EQ(result.status().code(), c.code) << c.http << ": " << result.status();
    EXPECT_TRUE(absl::StrContains(result.status().message(), "the reason given"))
        << result.status();
    EXPECT_TRUE(absl::StrContains(result.status().message(), absl::StrCat("HTTP ", c.http)));
  }
}

TEST(ChatCompletionClient, AnUnreachableEndpointIsUnavailable) {
  int port;
  {
    auto server = HttpTestServer::Start([](const HttpRequest&) { return HttpResponse{}; });
    ASSERT_TRUE(server.ok());
    port = (*server)->port();
  }
  auto client = Client(absl::StrCat("http://127.0.0.1:", port));
  std::vector<std::string> deltas;
  absl::StatusOr<ChatCompletionClient::Result> result = Stream(*client, &deltas);
  EXPECT_TRUE(absl::IsUnavailable(result.status())) << result.status();
  EXPECT_TRUE(absl::StrContains(result.status().message(), "unreachable")) << result.status();
}

TEST(ChatCompletionClient, AStreamCutBeforeItsEndIsUnavailable) {
  auto server = HttpTestServer::StartStreaming([](const HttpRequest&, HttpResponseWriter& writer) {
    writer.WriteHead(200, {{"Content-Type", "text/event-stream"}});
    writer.Write(Chunk("partial"));
  });
  ASSERT_TRUE(server.ok());
  auto client = Client((*server)->url());
  std::vector<std::string> deltas;
  absl::StatusOr<ChatCompletionClient::Result> result = Stream(*client, &deltas);
  EXPECT_TRUE(absl::IsUnavailable(result.status())) << result.status();
  EXPECT_EQ(deltas, (std::vector<std::string>{"partial"}));
}

TEST(ChatCompletionClient, AnErrorEventMidStreamIsUnavailable) {
  auto server = HttpTestServer::StartStreaming([](const HttpRequest&, HttpResponseWriter& writer) {
    writer.WriteHead(200, {{"Content-Type", "text/event-stream"}});
    writer.Write(Chunk("partial"));
    writer.Write("data: {\"error\":{\"message\":\"model overloaded\"}}\n\n");
  });
  ASSERT_TRUE(server.ok());
  auto client = Client((*server)->url());
  std::vector<std::string> deltas;
  absl::StatusOr<ChatCompletionClient::Result> result = Stream(*client, &deltas);
  EXPECT_TRUE(absl::IsUnavailable(result.status())) << result.status();
  EXPECT_TRUE(absl::StrContains(result.status().message(), "model overloaded"));
}

TEST(ChatCompletionClient, CancellingClosesTheUpstreamConnection) {
  absl::Notification closed;
  auto server = HttpTestServer::StartStreaming([&](const HttpRequest&, HttpResponseWriter& writer) {
    writer.WriteHead(200, {{"Content-Type", "text/event-stream"}});
    writer.Write(Chunk("first"));
    if (writer.WaitForClientClose(milliseconds(20000))) closed.Notify();
  });
  ASSERT_TRUE(server.ok());
  auto client = Client((*server)->url());

  std::atomic<bool> cancelled{false};
  ChatCompletionClient::Request request{"gpt-4o", kMessages};
  const auto start = std::chrono::steady_clock::now();
  absl::StatusOr<ChatCompletionClient::Result> result = client->Stream(
      request,
      [&](absl::string_view) {
        cancelled = true;  // the caller goes away after the first delta
        return true;
      },
      [&] { return cancelled.load(); });
  EXPECT_TRUE(absl::IsCancelled(result.status())) << result.status();
  EXPECT_TRUE(closed.WaitForNotificationWithTimeout(absl::Seconds(10)));
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
}

TEST(ChatCompletionClient, TheCallersDeadlineBoundsAStalledAnswer) {
  auto server = HttpTestServer::StartStreaming([](const HttpRequest&, HttpResponseWriter& writer) {
    writer.WriteHead(200, {{"Content-Type", "text/event-stream"}});
    writer.WaitForClientClose(milliseconds(20000));
  });
  ASSERT_TRUE(server.ok());
  auto client = Client((*server)->url());
  ChatCompletionClient::Request request{"gpt-4o", kMessages};
  request.deadline = std::chrono::system_clock::now() + milliseconds(300);
  absl::StatusOr<ChatCompletionClient::Result> result = client->Stream(
      request, [](absl::string_view) { return true; }, [] { return false; });
  EXPECT_TRUE(absl::IsDeadlineExceeded(result.status())) << result.status();
}

TEST(ChatCompletionClient, RefusesABadBaseUrl) {
  ChatCompletionClient::Options options;
  options.base_url = "ftp://example";
  EXPECT_TRUE(absl::IsInvalidArgument(ChatCompletionClient::Create(options).status()));
}

}  // namespace
}  // namespace quarry::answer
