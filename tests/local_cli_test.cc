// `quarry local` as a user drives it, only through the CLI: start a whole cluster on free
// loopback ports, ingest a folder of real documents, search, look at the status, stop it with
// SIGTERM, start it again on the same data and find the same results.
#include <gtest/gtest.h>
#include <signal.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "shard/test_util.h"
#include "tests/quarry_process.h"

namespace quarry {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;
using testing::CommandResult;
using testing::QuarryProcess;
using testing::RunQuarry;

constexpr char kManual[] = "/usr/share/doc/postgresql-doc-15/html";
constexpr int kShards = 3;

// A few real pages of the PostgreSQL manual and a Chinese note, copied into `dir`.
int WriteCorpus(const fs::path& dir) {
  fs::create_directories(dir / "manual");
  int files = 0;
  for (const char* page : {"indexes-partial.html", "sql-vacuum.html", "sql-createindex.html",
                           "routine-vacuuming.html", "sql-lock.html", "explicit-locking.html"}) {
    fs::copy_file(fs::path(kManual) / page, dir / "manual" / page);
    ++files;
  }
  std::ofstream(dir / "备份.md") << "# 数据库备份\n\n定期备份数据库是防止数据丢失的最重要手段。"
                                    "可以使用转储工具导出整个数据库。\n";
  return files + 1;
}

class LocalCluster {
 public:
  LocalCluster(const std::string& data_dir, int base_port)
      : router_(absl::StrCat("127.0.0.1:", base_port)),
        process_("local",
                 {"--data", data_dir, "--base-port", std::to_string(base_port), "--shards",
                  std::to_string(kShards), "--drain-seconds", "5"},
                 router_) {}

  absl::Status Start() { return process_.Start(); }
  int Terminate() { return process_.Terminate(); }
  std::string Log() const { return process_.Log(); }
  const std::string& router() const { return router_; }

 private:
  std::string router_;
  QuarryProcess process_;
};

Json SearchJson(const std::string& router, const std::string& question) {
  CommandResult result = RunQuarry({"search", question, "--router", router, "--json", "-k", "5"});
  EXPECT_EQ(result.exit_code, 0) << result.err;
  return Json::parse(result.out, nullptr, /*allow_exceptions=*/false);
}

TEST(QuarryLocal, IngestSearchRestartAndFindTheSameResults) {
  const int base_port = testing::FreeBasePort(20);
  ASSERT_NE(base_port, 0);
  shard::testing::TempDir dir;
  const int files = WriteCorpus(fs::path(dir.path()) / "docs");
  const std::string data = dir.path() + "/data";

  LocalCluster cluster(data, base_port);
  ASSERT_TRUE(cluster.Start().ok()) << cluster.Log();

  CommandResult ingest = RunQuarry({"ingest", dir.path() + "/docs", "--router", cluster.router()});
  ASSERT_EQ(ingest.exit_code, 0) << ingest.err;
  EXPECT_TRUE(absl::StrContains(ingest.out + ingest.err, absl::StrCat("ingested ", files)))
      << ingest.out << ingest.err;

  const Json partial = SearchJson(cluster.router(), "how do I create a partial index");
  ASSERT_TRUE(partial.is_object()) << partial;
  ASSERT_FALSE(partial["hits"].empty());
  EXPECT_TRUE(
      absl::StrContains(partial["hits"][0]["source"].get<std::string>(), "indexes-partial.html"))
      << partial["hits"][0];
  EXPECT_EQ(partial["coverage"]["shards_total"], kShards);
  EXPECT_EQ(partial["coverage"]["shards_ok"], kShards);
  EXPECT_EQ(partial["partial"], false);

  // The answer service of the same process answers from those passages, with citations.
  const std::string answer = absl::StrCat("127.0.0.1:", base_port + 1);
  CommandResult ask =
      RunQuarry({"ask", "What does VACUUM FULL lock?", "--answer", answer, "--json"});
  ASSERT_EQ(ask.exit_code, 0) << ask.err;
  const Json asked = Json::parse(ask.out, nullptr, /*allow_exceptions=*/false);
  ASSERT_TRUE(asked.is_object()) << ask.out;
  EXPECT_TRUE(absl::StrContains(asked["answer"].get<std::string>(), "ACCESS EXCLUSIVE"))
      << asked["answer"];
  EXPECT_LE(asked["prompt_tokens"].get<int>(), asked["budget"].get<int>());
  ASSERT_FALSE(asked["sources"].empty());

  const Json chinese = SearchJson(cluster.router(), "数据库备份");
  ASSERT_FALSE(chinese["hits"].empty());
  EXPECT_TRUE(absl::StrContains(chinese["hits"][0]["source"].get<std::string>(), "备份.md"));

  // Every shard serves and the documents are spread over them.
  CommandResult status = RunQuarry({"status", "--router", cluster.router(), "--json"});
  ASSERT_EQ(status.exit_code, 0) << status.err;
  const Json shards = Json::parse(status.out)["shards"];
  ASSERT_EQ(shards.size(), static_cast<size_t>(kShards));
  int documents = 0;
  for (const Json& shard : shards) {
    ASSERT_EQ(shard["replicas"].size(), 1u);
    EXPECT_EQ(shard["replicas"][0]["health"], "healthy");
    documents += shard["replicas"][0]["documents"].get<int>();
  }
  EXPECT_EQ(documents, files);
  CommandResult table = RunQuarry({"status", "--router", cluster.router()});
  EXPECT_TRUE(absl::StrContains(table.out, "3 shards (3 serving)")) << table.out;

  EXPECT_EQ(cluster.Terminate(), 0) << cluster.Log();
  EXPECT_TRUE(absl::StrContains(cluster.Log(), "stopped cleanly"));

  // The same data directory serves the same answers after a restart.
  LocalCluster again(data, base_port);
  ASSERT_TRUE(again.Start().ok()) << again.Log();
  const Json after = SearchJson(again.router(), "how do I create a partial index");
  EXPECT_EQ(after["hits"], partial["hits"]);
  CommandResult ask_again =
      RunQuarry({"ask", "What does VACUUM FULL lock?", "--answer", answer, "--json"});
  ASSERT_EQ(ask_again.exit_code, 0) << ask_again.err;
  EXPECT_EQ(Json::parse(ask_again.out)["answer"], asked["answer"]);
  CommandResult unchanged = RunQuarry({"ingest", dir.path() + "/docs", "--router", again.router()});
  EXPECT_TRUE(absl::StrContains(unchanged.out + unchanged.err, absl::StrCat("unchanged ", files)))
      << unchanged.out << unchanged.err;
  EXPECT_EQ(again.Terminate(), 0) << again.Log();
}

TEST(QuarryLocal, RefusesADataDirectoryMadeForAnotherShardCount) {
  const int base_port = testing::FreeBasePort(20);
  ASSERT_NE(base_port, 0);
  shard::testing::TempDir dir;
  {
    LocalCluster cluster(dir.path(), base_port);
    ASSERT_TRUE(cluster.Start().ok()) << cluster.Log();
    EXPECT_EQ(cluster.Terminate(), 0);
  }
  CommandResult result = RunQuarry(
      {"local", "--data", dir.path(), "--base-port", std::to_string(base_port), "--shards", "2"});
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_TRUE(absl::StrContains(result.err, "holds a cluster of 3 shards")) << result.err;
}

TEST(QuarryLocal, APortInUseIsAClearError) {
  const int base_port = testing::FreeBasePort(20);
  ASSERT_NE(base_port, 0);
  shard::testing::TempDir dir;
  LocalCluster first(dir.path() + "/a", base_port);
  ASSERT_TRUE(first.Start().ok()) << first.Log();

  CommandResult second =
      RunQuarry({"local", "--data", dir.path() + "/b", "--base-port", std::to_string(base_port)},
                std::chrono::seconds(30));
  EXPECT_EQ(second.exit_code, 1);
  EXPECT_TRUE(absl::StrContains(second.err, absl::StrCat("127.0.0.1:", base_port + 10)))
      << second.err;
  EXPECT_EQ(first.Terminate(), 0);
}

}  // namespace
}  // namespace quarry
