// The answer service in this process over a cluster of real shard and router processes, with a
// real HTTP server playing the OpenAI-compatible LLM: the prompt, its sources, the streamed
// answer, cancellation, upstream errors and bad input, all seen by a gRPC client.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "quarry/v1/answer.grpc.pb.h"
#include "services/answer/answer_server.h"
#include "tests/http_test_server.h"
#include "tests/test_cluster.h"

namespace quarry {
namespace {

using testing::HttpRequest;
using testing::HttpResponse;
using testing::HttpResponseWriter;
using testing::HttpTestServer;
using testing::TestCluster;
using Json = nlohmann::json;
using std::chrono::milliseconds;

constexpr char kVacuum[] =
    "VACUUM reclaims storage occupied by dead tuples. VACUUM FULL rewrites the entire table "
    "into a new file and takes an ACCESS EXCLUSIVE lock on the table while it runs.";
constexpr char kIndex[] =
    "A partial index is built over a subset of a table, defined by a predicate. It holds "
    "entries only for the rows that satisfy the predicate.";
constexpr char kBackup[] = "定期备份数据库是防止数据丢失的最重要手段。恢复时先停止服务。";

std::string Chunk(const std::string& content, const char* finish_reason = nullptr) {
  Json chunk = {{"object", "chat.completion.chunk"},
                {"choices", {{{"index", 0}, {"delta", {{"content", content}}}}}}};
  if (finish_reason != nullptr) chunk["choices"][0]["finish_reason"] = finish_reason;
  return absl::StrCat("data: ", chunk.dump(), "\n\n");
}

struct AskResult {
  v1::AskPrompt prompt;
  std::vector<std::string> deltas;
  v1::AskDone done;
  grpc::Status status;
};

class AnswerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(cluster_.Start().ok());
    v1::IngestRequest request;
    AddDocument(&request, "vacuum", "VACUUM", "manual/vacuum.html", kVacuum);
    AddDocument(&request, "partial-index", "Partial Indexes", "manual/partial-index.md", kIndex);
    AddDocument(&request, "backup-zh", "数据库备份", "notes/backup-zh.txt", kBackup);
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    v1::IngestResponse response;
    ASSERT_TRUE(cluster_.router().router().Ingest(&context, request, &response).ok());
  }

  static void AddDocument(v1::IngestRequest* request, const std::string& id,
                          const std::string& title, const std::string& source,
                          const std::string& text) {
    v1::DocumentChunks* entry = request->add_documents();
    entry->mutable_document()->set_id(id);
    entry->mutable_document()->set_tenant("default");
    entry->mutable_document()->set_title(title);
    entry->mutable_document()->set_source(source);
    v1::Chunk* chunk = entry->add_chunks();
    chunk->set_text(text);
    chunk->set_ordinal(0);
  }

  void StartAnswer(const std::string& llm_url = "", std::string router = "") {
    answer::AnswerServerOptions options;
    options.listen = "127.0.0.1:0";
    options.router = router.empty() ? cluster_.router().address() : router;
    options.router_check_interval = milliseconds(100);
    if (!llm_url.empty()) {
      options.llm_url = llm_url + "/v1";
      options.llm_model = "gpt-4o-mini";
    }
    absl::StatusOr<std::unique_ptr<answer::AnswerServer>> server =
        answer::AnswerServer::Start(options);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    channel_ = grpc::CreateChannel(absl::StrCat("127.0.0.1:", server_->port()),
                                   grpc::InsecureChannelCredentials());
    stub_ = v1::Answer::NewStub(channel_);
  }

  // Health of the answer service, as a load balancer sees it.
  bool Serving() {
    auto health = grpc::health::v1::Health::NewStub(channel_);
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(2));
    grpc::health::v1::HealthCheckRequest request;
    grpc::health::v1::HealthCheckResponse response;
    return health->Check(&context, request, &response).ok() &&
           response.status() == grpc::health::v1::HealthCheckResponse::SERVING;
  }

  bool WaitServing(bool serving) {
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < until) {
      if (Serving() == serving) return true;
      std::this_thread::sleep_for(milliseconds(50));
    }
    return false;
  }

  AskResult Ask(v1::AskRequest request) {
    if (!request.has_principal()) request.mutable_principal()->set_tenant("default");
    AskResult result;
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    auto reader = stub_->Ask(&context, request);
    v1::AskResponse response;
    while (reader->Read(&response)) {
      if (response.has_prompt()) result.prompt = response.prompt();
      if (response.has_delta()) result.deltas.push_back(response.delta().text());
      if (response.has_done()) result.done = response.done();
    }
    result.status = reader->Finish();
    return result;
  }

  static v1::AskRequest Question(const std::string& question) {
    v1::AskRequest request;
    request.set_question(question);
    return request;
  }

  TestCluster cluster_{2, 1, 384};
  std::unique_ptr<answer::AnswerServer> server_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::Answer::Stub> stub_;
};

TEST_F(AnswerTest, StreamsTheLlmAnswerChunkByChunkAfterThePromptAndSources) {
  // The server sends the next chunk only once the gRPC client has read the one before, so the
  // test passes only if every chunk reaches the caller as soon as it arrives.
  absl::Mutex mu;
  int read_by_client = 0;
  Json received;
  constexpr int kChunks = 4;
  auto llm = HttpTestServer::StartStreaming([&](const HttpRequest& request,
                                                HttpResponseWriter& writer) {
    {
      absl::MutexLock lock(&mu);
      received = Json::parse(request.body, nullptr, false);
    }
    writer.WriteHead(200, {{"Content-Type", "text/event-stream"}});
    for (int i = 0; i < kChunks; ++i) {
      if (!writer.Write(Chunk(absl::StrCat("part", i, " "), i + 1 == kChunks ? "stop" : nullptr))) {
        return;
      }
      absl::MutexLock lock(&mu);
      const auto arrived = [&] { return read_by_client > i; };
      if (!mu.AwaitWithTimeout(absl::Condition(&arrived), absl::Seconds(10))) return;
    }
    writer.Write("data: [DONE]\n\n");
  });
  ASSERT_TRUE(llm.ok());
  StartAnswer((*llm)->url());

  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  v1::AskRequest request = Question("What lock does VACUUM FULL take?");
  request.mutable_principal()->set_tenant("default");
  auto reader = stub_->Ask(&context, request);

  v1::AskResponse response;
  ASSERT_TRUE(reader->Read(&response));
  ASSERT_TRUE(response.has_prompt());
  const v1::AskPrompt prompt = response.prompt();
  EXPECT_EQ(prompt.mode(), v1::ANSWER_MODE_LLM);
  EXPECT_EQ(prompt.model(), "gpt-4o-mini");
  ASSERT_GE(prompt.sources_size(), 1);
  EXPECT_EQ(prompt.sources(0).citation(), 1u);
  EXPECT_EQ(prompt.sources(0).doc_id(), "vacuum");
  EXPECT_EQ(prompt.sources(0).title(), "VACUUM");
  EXPECT_EQ(prompt.sources(0).source(), "manual/vacuum.html");
  EXPECT_EQ(prompt.packing().encoding(), "o200k_base");
  EXPECT_LE(prompt.packing().prompt_tokens(), prompt.packing().budget());
  EXPECT_EQ(prompt.packing().budget(), 128000u - 1024u);

  for (int i = 0; i < kChunks; ++i) {
    ASSERT_TRUE(reader->Read(&response)) << "chunk " << i;
    ASSERT_TRUE(response.has_delta());
    EXPECT_EQ(response.delta().text(), absl::StrCat("part", i, " "));
    absl::MutexLock lock(&mu);
    read_by_client = i + 1;
  }
  ASSERT_TRUE(reader->Read(&response));
  ASSERT_TRUE(response.has_done());
  EXPECT_EQ(response.done().finish_reason(), "stop");
  EXPECT_GT(response.done().answer_tokens(), 0u);
  EXPECT_FALSE(reader->Read(&response));
  ASSERT_TRUE(reader->Finish().ok());

  absl::MutexLock lock(&mu);
  EXPECT_EQ(received["model"], "gpt-4o-mini");
  EXPECT_EQ(received["stream"], true);
  ASSERT_EQ(received["messages"].size(), 2u);
  EXPECT_EQ(received["messages"][0]["role"], "system");
  EXPECT_EQ(received["messages"][1]["role"], "user");
  EXPECT_EQ(received["messages"][1]["content"], prompt.messages(1).content());
  const std::string user = received["messages"][1]["content"];
  EXPECT_TRUE(absl::StrContains(user, "[1] VACUUM — manual/vacuum.html\n")) << user;
  EXPECT_TRUE(absl::EndsWith(user, "Question: What lock does VACUUM FULL take?")) << user;
}

TEST_F(AnswerTest, CancellingTheCallClosesTheLlmRequest) {
  absl::Notification closed;
  auto llm = HttpTestServer::StartStreaming([&](const HttpRequest&, HttpResponseWriter& writer) {
    writer.WriteHead(200, {{"Content-Type", "text/event-stream"}});
    writer.Write(Chunk("first"));
    if (writer.WaitForClientClose(milliseconds(20000))) closed.Notify();
  });
  ASSERT_TRUE(llm.ok());
  StartAnswer((*llm)->url());

  grpc::ClientContext context;
  v1::AskRequest request = Question("What does VACUUM reclaim?");
  request.mutable_principal()->set_tenant("default");
  auto reader = stub_->Ask(&context, request);
  v1::AskResponse response;
  ASSERT_TRUE(reader->Read(&response));
  ASSERT_TRUE(response.has_prompt());
  ASSERT_TRUE(reader->Read(&response));
  ASSERT_EQ(response.delta().text(), "first");

  context.TryCancel();
  EXPECT_TRUE(closed.WaitForNotificationWithTimeout(absl::Seconds(10)))
      << "the answer service kept the LLM request open after its caller went away";
  EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::CANCELLED);
}

TEST_F(AnswerTest, LlmErrorsBecomeStatusesNamingTheCause) {
  struct Case {
    int http;
    grpc::StatusCode code;
  };
  for (const Case& c : {Case{500, grpc::StatusCode::UNAVAILABLE},
                        Case{429, grpc::StatusCode::RESOURCE_EXHAUSTED}}) {
    auto llm = HttpTestServer::Start([&](const HttpRequest&) {
      return HttpResponse{c.http,
                          {{"Content-Type", "application/json"}},
                          R"({"error":{"message":"upstream says no"}})"};
    });
    ASSERT_TRUE(llm.ok());
    StartAnswer((*llm)->url());
    AskResult result = Ask(Question("What does VACUUM reclaim?"));
    EXPECT_EQ(result.status.error_code(), c.code)
        << c.http << ": " << result.status.error_message();
    EXPECT_TRUE(absl::StrContains(result.status.error_message(), absl::StrCat("HTTP ", c.http)));
    EXPECT_TRUE(absl::StrContains(result.status.error_message(), "upstream says no"));
    EXPECT_GE(result.prompt.sources_size(), 1) << "the prompt still comes first";
    server_.reset();
  }
}

TEST_F(AnswerTest, AnLlmThatIsDownIsUnavailable) {
  int port;
  {
    auto llm = HttpTestServer::Start([](const HttpRequest&) { return HttpResponse{}; });
    ASSERT_TRUE(llm.ok());
    port = (*llm)->port();
  }
  StartAnswer(absl::StrCat("http://127.0.0.1:", port));
  AskResult result = Ask(Question("What does VACUUM reclaim?"));
  EXPECT_EQ(result.status.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_TRUE(absl::StrContains(result.status.error_message(), "unreachable"))
      << result.status.error_message();
}

TEST_F(AnswerTest, ExtractiveAndPromptModesNeedNoModel) {
  StartAnswer();
  ASSERT_TRUE(WaitServing(true));

  AskResult extractive = Ask(Question("What lock does VACUUM FULL take?"));
  ASSERT_TRUE(extractive.status.ok()) << extractive.status.error_message();
  EXPECT_EQ(extractive.prompt.mode(), v1::ANSWER_MODE_EXTRACTIVE);
  ASSERT_EQ(extractive.deltas.size(), 1u);
  EXPECT_TRUE(absl::StartsWith(extractive.deltas[0],
                               "VACUUM FULL rewrites the entire table into a new file and takes an "
                               "ACCESS EXCLUSIVE lock on the table while it runs. [1]"))
      << extractive.deltas[0];
  EXPECT_EQ(extractive.done.finish_reason(), "extractive");

  AskResult chinese = Ask(Question("如何防止数据丢失"));
  ASSERT_TRUE(chinese.status.ok());
  ASSERT_EQ(chinese.deltas.size(), 1u);
  EXPECT_TRUE(absl::StrContains(chinese.deltas[0], "防止数据丢失")) << chinese.deltas[0];

  v1::AskRequest prompt_only = Question("What is a partial index?");
  prompt_only.set_mode(v1::ANSWER_MODE_PROMPT);
  prompt_only.set_model("gpt-4");
  prompt_only.set_token_budget(150);
  AskResult prompt = Ask(prompt_only);
  ASSERT_TRUE(prompt.status.ok()) << prompt.status.error_message();
  EXPECT_TRUE(prompt.deltas.empty());
  EXPECT_EQ(prompt.done.finish_reason(), "prompt");
  EXPECT_EQ(prompt.prompt.packing().encoding(), "cl100k_base");
  EXPECT_EQ(prompt.prompt.packing().budget(), 150u);
  EXPECT_LE(prompt.prompt.packing().prompt_tokens(), 150u);
  EXPECT_EQ(prompt.prompt.packing().candidates(), 3u);
  EXPECT_EQ(prompt.prompt.packing().passages_used() + prompt.prompt.packing().dropped_size(), 3);
  ASSERT_GE(prompt.prompt.sources_size(), 1);
  EXPECT_EQ(prompt.prompt.sources(0).doc_id(), "partial-index");
}

TEST_F(AnswerTest, BadInputGetsAStatusNamingTheProblem) {
  StartAnswer();
  struct Case {
    std::string name;
    v1::AskRequest request;
    grpc::StatusCode code;
    std::string says;
  };
  std::vector<Case> cases;
  cases.push_back({"empty question", Question("  \n"), grpc::StatusCode::INVALID_ARGUMENT,
                   "question is empty"});
  v1::AskRequest tiny = Question("What does VACUUM reclaim?");
  tiny.set_token_budget(12);
  cases.push_back({"tiny budget", tiny, grpc::StatusCode::INVALID_ARGUMENT, "too small"});
  v1::AskRequest unknown_model = Question("What does VACUUM reclaim?");
  unknown_model.set_model("mystery-model-7b");
  cases.push_back({"unknown model", unknown_model, grpc::StatusCode::INVALID_ARGUMENT,
                   "unknown model 'mystery-model-7b'"});
  v1::AskRequest unknown_encoding = Question("What does VACUUM reclaim?");
  unknown_encoding.set_encoding("p50k_base");
  cases.push_back({"unknown encoding", unknown_encoding, grpc::StatusCode::INVALID_ARGUMENT,
                   "unknown encoding 'p50k_base'"});
  v1::AskRequest over_window = Question("What does VACUUM reclaim?");
  over_window.set_model("gpt-4");
  over_window.set_token_budget(9000);
  cases.push_back({"budget over the window", over_window, grpc::StatusCode::INVALID_ARGUMENT,
                   "exceeds the context window"});
  v1::AskRequest no_llm = Question("What does VACUUM reclaim?");
  no_llm.set_mode(v1::ANSWER_MODE_LLM);
  cases.push_back(
      {"llm without one", no_llm, grpc::StatusCode::FAILED_PRECONDITION, "no LLM configured"});
  v1::AskRequest bad_mode = Question("What does VACUUM reclaim?");
  bad_mode.set_mode(static_cast<v1::AnswerMode>(99));
  cases.push_back({"unknown mode", bad_mode, grpc::StatusCode::INVALID_ARGUMENT, "unknown mode"});

  for (const Case& c : cases) {
    AskResult result = Ask(c.request);
    EXPECT_EQ(result.status.error_code(), c.code)
        << c.name << ": " << result.status.error_message();
    EXPECT_TRUE(absl::StrContains(result.status.error_message(), c.says))
        << c.name << ": " << result.status.error_message();
  }
}

TEST_F(AnswerTest, ARouterThatIsDownMakesTheServiceUnavailable) {
  int port;
  {
    auto unused = HttpTestServer::Start([](const HttpRequest&) { return HttpResponse{}; });
    ASSERT_TRUE(unused.ok());
    port = (*unused)->port();
  }
  StartAnswer("", absl::StrCat("127.0.0.1:", port));
  std::this_thread::sleep_for(milliseconds(300));
  EXPECT_FALSE(Serving());
  AskResult result = Ask(Question("What does VACUUM reclaim?"));
  EXPECT_EQ(result.status.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_TRUE(absl::StrContains(result.status.error_message(),
                                absl::StrCat("router 127.0.0.1:", port, " is unavailable")))
      << result.status.error_message();
}

}  // namespace
}  // namespace quarry
