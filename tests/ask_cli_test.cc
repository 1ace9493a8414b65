// `quarry answer` and `quarry ask` as a user runs them: real files through `quarry ingest`
// into shard and router processes, an answer process over them, and questions from the
// command line in prompt-only, extractive, JSON and LLM form.
#include <gtest/gtest.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "tests/http_test_server.h"
#include "tests/test_cluster.h"

namespace quarry {
namespace {

using testing::CommandResult;
using testing::HttpRequest;
using testing::HttpResponseWriter;
using testing::HttpTestServer;
using testing::QuarryProcess;
using testing::RunQuarry;
using testing::TestCluster;
using Json = nlohmann::json;

namespace fs = std::filesystem;

constexpr char kVacuumHtml[] = R"(<!DOCTYPE html>
<html><head><title>VACUUM</title></head>
<body><h1>VACUUM</h1>
<p>VACUUM reclaims storage occupied by dead tuples. In normal operation, tuples that are deleted
or obsoleted by an update are not physically removed from their table.</p>
<h2>VACUUM FULL</h2>
<p>VACUUM FULL rewrites the entire contents of the table into a new disk file with no extra
space, and it requires an ACCESS EXCLUSIVE lock on each table while it is being processed.</p>
</body></html>
)";

constexpr char kPartialIndexMd[] = R"(# Partial Indexes

A partial index is an index built over a subset of a table; the subset is defined by a
conditional expression called the predicate of the partial index.
)";

constexpr char kBackupChinese[] =
    "数据库备份\n\n"
    "定期备份数据库是防止数据丢失的最重要手段。可以使用转储工具导出整个数据库。\n";

void WriteFile(const fs::path& path, const std::string& content) {
  fs::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary) << content;
}

class AskCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(cluster_.Start().ok());
    docs_ = fs::path(dir_.path()) / "docs";
    WriteFile(docs_ / "vacuum.html", kVacuumHtml);
    WriteFile(docs_ / "partial-index.md", kPartialIndexMd);
    WriteFile(docs_ / "backup-zh.txt", kBackupChinese);
    CommandResult ingest =
        RunQuarry({"ingest", docs_.string(), "--router", cluster_.router().address()});
    ASSERT_EQ(ingest.exit_code, 0) << ingest.out << ingest.err;
  }

  void StartAnswer(std::vector<std::string> args = {}) {
    args.insert(args.begin(), {"--router", cluster_.router().address()});
    answer_ = std::make_unique<QuarryProcess>("answer", args);
    ASSERT_TRUE(answer_->Start().ok());
  }

  CommandResult Ask(std::vector<std::string> args) {
    args.insert(args.begin(), "ask");
    args.insert(args.end(), {"--answer", answer_->address()});
    return RunQuarry(args);
  }

  std::string Path(const std::string& relative) { return fs::canonical(docs_ / relative).string(); }

  shard::testing::TempDir dir_;
  TestCluster cluster_{2, 1, 384};
  fs::path docs_;
  std::unique_ptr<QuarryProcess> answer_;
};

TEST_F(AskCliTest, PromptOnlyPrintsTheMessagesAndTheirSources) {
  StartAnswer();
  CommandResult result =
      Ask({"What lock does VACUUM FULL take?", "--prompt-only", "--budget", "400"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_TRUE(absl::StrContains(result.out, "── system ──\nAnswer the question using only"))
      << result.out;
  EXPECT_TRUE(absl::StrContains(result.out, "── user ──\nSources:\n\n[1] VACUUM — ")) << result.out;
  EXPECT_TRUE(absl::StrContains(result.out, "Question: What lock does VACUUM FULL take?"));
  EXPECT_TRUE(absl::StrContains(result.out, "Sources:\n  [1] VACUUM — "));
  EXPECT_TRUE(absl::StrContains(result.out, "of 400 tokens (o200k_base, gpt-4o)")) << result.out;
}

TEST_F(AskCliTest, AnswersExtractivelyWithCitationsWhenNoModelIsConfigured) {
  StartAnswer();
  CommandResult result = Ask({"What lock does VACUUM FULL take?"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_TRUE(absl::StrContains(result.out,
                                "ACCESS EXCLUSIVE lock on each table while it is "
                                "being processed. [1]"))
      << result.out;
  EXPECT_TRUE(absl::StrContains(result.out, absl::StrCat("[1] VACUUM — ", Path("vacuum.html"))))
      << result.out;

  CommandResult chinese = Ask({"如何防止数据丢失"});
  ASSERT_EQ(chinese.exit_code, 0) << chinese.err;
  EXPECT_TRUE(absl::StrContains(chinese.out, "防止数据丢失的最重要手段。 [1]")) << chinese.out;
}

TEST_F(AskCliTest, JsonHasTheAnswerPromptBudgetAndSources) {
  StartAnswer();
  CommandResult result = Ask({"What is a partial index?", "--json", "--budget", "300"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const Json out = Json::parse(result.out, nullptr, /*allow_exceptions=*/false);
  ASSERT_FALSE(out.is_discarded()) << result.out;
  EXPECT_TRUE(absl::StrContains(out["answer"].get<std::string>(), "[1]")) << out.dump(2);
  ASSERT_EQ(out["prompt"].size(), 2u);
  EXPECT_EQ(out["prompt"][1]["role"], "user");
  EXPECT_EQ(out["budget"], 300);
  EXPECT_LE(out["prompt_tokens"].get<int>(), 300);
  EXPECT_GT(out["prompt_tokens"].get<int>(), 0);
  ASSERT_FALSE(out["sources"].empty());
  EXPECT_EQ(out["sources"][0]["citation"], 1);
  EXPECT_EQ(out["sources"][0]["doc_id"], Path("partial-index.md"));
  EXPECT_EQ(out["sources"][0]["title"], "Partial Indexes");
  EXPECT_EQ(out["mode"], "extractive");
}

TEST_F(AskCliTest, StreamsAnLlmAnswerAndReportsBadInput) {
  auto llm = HttpTestServer::StartStreaming([](const HttpRequest&, HttpResponseWriter& writer) {
    writer.WriteHead(200, {{"Content-Type", "text/event-stream"}});
    for (const char* part : {"It takes an ", "ACCESS EXCLUSIVE", " lock [1]."}) {
      writer.Write(absl::StrCat(R"(data: {"choices":[{"delta":{"content":")", part, "\"}}]}\n\n"));
    }
    writer.Write("data: [DONE]\n\n");
  });
  ASSERT_TRUE(llm.ok());
  StartAnswer({"--llm-url", (*llm)->url() + "/v1", "--llm-model", "gpt-4o-mini"});

  CommandResult result = Ask({"What lock does VACUUM FULL take?"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_TRUE(absl::StartsWith(result.out, "It takes an ACCESS EXCLUSIVE lock [1].\n\nSources:"))
      << result.out;
  ASSERT_EQ((*llm)->request_count(), 1u);
  const Json sent = Json::parse((*llm)->requests()[0].body);
  EXPECT_EQ(sent["model"], "gpt-4o-mini");

  CommandResult empty = Ask({" "});
  EXPECT_EQ(empty.exit_code, 1);
  EXPECT_TRUE(absl::StrContains(empty.err, "question is empty")) << empty.err;
  CommandResult tiny = Ask({"What lock does VACUUM FULL take?", "--budget", "10"});
  EXPECT_EQ(tiny.exit_code, 1);
  EXPECT_TRUE(absl::StrContains(tiny.err, "token budget 10 is too small")) << tiny.err;

  EXPECT_EQ(answer_->Terminate(), 0) << answer_->Log();
  EXPECT_TRUE(absl::StrContains(answer_->Log(), "stopped cleanly")) << answer_->Log();
}

}  // namespace
}  // namespace quarry
