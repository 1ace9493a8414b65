// `quarry ingest` and `quarry search` as a user runs them: real files of every supported kind
// (and some broken ones) through the real binary into a cluster of real processes.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "tests/test_cluster.h"

namespace quarry {
namespace {

using testing::CommandResult;
using testing::RunQuarry;
using testing::TestCluster;

namespace fs = std::filesystem;

constexpr char kVacuumHtml[] = R"(<!DOCTYPE html>
<html><head><title>VACUUM</title><script>var tracking = "vacuum tracking";</script>
<style>body { color: red; }</style></head>
<body><nav>Home | Next | Previous</nav>
<h1>VACUUM</h1>
<p>VACUUM reclaims storage occupied by dead tuples. In normal operation, tuples that are deleted
or obsoleted by an update are not physically removed from their table.</p>
<h2>VACUUM FULL</h2>
<p>VACUUM FULL rewrites the entire contents of the table into a new disk file with no extra
space, and it requires an ACCESS EXCLUSIVE lock on each table while it is being processed.</p>
</body></html>
)";

constexpr char kPartialIndexMd[] = R"(# Partial Indexes

A partial index is an index built over a subset of a table; the subset is defined by a
conditional expression called the predicate of the partial index. The index contains entries
only for those table rows that satisfy the predicate.

## Example

Create a partial index on orders that are not yet billed with CREATE INDEX ... WHERE billed
is not true.
)";

constexpr char kBackupChinese[] =
    "数据库备份\n\n"
    "定期备份数据库是防止数据丢失的最重要手段。可以使用转储工具导出"
    "整个数据库，也可以复制数据目录进行物理备份。恢复时先停止服务。\n";

constexpr char kReplacedMd[] = R"(# Zebra Cartography

Mapping the stripes of a zebra herd from the air is a cartography problem: every animal carries
a unique pattern, so the herd can be counted from overlapping photographs.
)";

void WriteFile(const fs::path& path, const std::string& content) {
  fs::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary);
  out << content;
}

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(cluster_.Start().ok());
    docs_ = fs::path(dir_.path()) / "docs";
    WriteFile(docs_ / "manual" / "vacuum.html", kVacuumHtml);
    WriteFile(docs_ / "manual" / "partial-index.md", kPartialIndexMd);
    WriteFile(docs_ / "notes" / "backup-zh.txt", kBackupChinese);
    // Latin-1 bytes that are not UTF-8: extracted with replacement characters, not refused.
    WriteFile(docs_ / "notes" / "latin1.txt",
              "Caf\xe9 cr\xe8me: the caf\xe9 on the corner serves coffee with cream.\n");
    WriteFile(docs_ / "bad" / "empty.txt", "");
    WriteFile(docs_ / "bad" / "image.bin", std::string("\x89PNG\r\n\x1a\n\0\0\0\rIHDR", 16));
    WriteFile(docs_ / "bad" / "broken.pdf", "%PDF-1.4\n1 0 obj\n<< /Type /Catalog");
  }

  CommandResult Quarry(std::vector<std::string> args) {
    args.insert(args.end(), {"--router", cluster_.router().address()});
    return RunQuarry(args);
  }

  // The hits of `quarry search --json`.
  nlohmann::json Search(const std::string& text, std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"search", text, "--json"};
    args.insert(args.end(), extra.begin(), extra.end());
    CommandResult result = Quarry(args);
    EXPECT_EQ(result.exit_code, 0) << result.err;
    nlohmann::json out = nlohmann::json::parse(result.out, nullptr, /*allow_exceptions=*/false);
    EXPECT_FALSE(out.is_discarded()) << result.out;
    return out;
  }

  std::string Path(const std::string& relative) { return fs::canonical(docs_ / relative).string(); }

  shard::testing::TempDir dir_;
  TestCluster cluster_{2, 1, 384};
  fs::path docs_;
};

TEST_F(CliTest, IngestsAFolderReportsBadFilesAndSearchFindsTheRightDocument) {
  CommandResult ingest = Quarry({"ingest", docs_.string()});
  EXPECT_EQ(ingest.exit_code, 1) << "bad files must make the exit code say so";
  EXPECT_TRUE(absl::StrContains(ingest.out, "ingested 4, unchanged 0, failed 3 of 7 files"))
      << ingest.out << ingest.err;
  for (const char* bad : {"empty.txt", "image.bin", "broken.pdf"}) {
    EXPECT_TRUE(
        absl::StrContains(ingest.err, std::string("FAILED ") + Path("bad/" + std::string(bad))))
        << bad << ": " << ingest.err;
  }

  nlohmann::json found = Search("partial index over a subset of table rows with a predicate");
  ASSERT_FALSE(found["hits"].empty());
  EXPECT_EQ(found["hits"][0]["doc_id"], Path("manual/partial-index.md"));
  EXPECT_EQ(found["hits"][0]["title"], "Partial Indexes");
  EXPECT_EQ(found["coverage"]["shards_total"], 2);
  EXPECT_EQ(found["coverage"]["shards_ok"], 2);
  EXPECT_EQ(found["partial"], false);

  found = Search("what lock does VACUUM FULL take");
  ASSERT_FALSE(found["hits"].empty());
  EXPECT_EQ(found["hits"][0]["doc_id"], Path("manual/vacuum.html"));
  EXPECT_EQ(found["hits"][0]["title"], "VACUUM");
  for (const auto& hit : found["hits"]) {
    const std::string text = hit["text"];
    EXPECT_FALSE(absl::StrContains(text, "tracking")) << "script text was indexed: " << text;
    EXPECT_FALSE(absl::StrContains(text, "color: red")) << "style text was indexed: " << text;
  }

  found = Search("如何备份数据库");
  ASSERT_FALSE(found["hits"].empty());
  EXPECT_EQ(found["hits"][0]["doc_id"], Path("notes/backup-zh.txt"));

  found = Search("coffee with cream at the corner cafe");
  ASSERT_FALSE(found["hits"].empty());
  EXPECT_EQ(found["hits"][0]["doc_id"], Path("notes/latin1.txt"));

  // The listing for people: rank, score, title, source, a snippet and the coverage.
  CommandResult listing = Quarry({"search", "VACUUM FULL lock", "-k", "2"});
  EXPECT_EQ(listing.exit_code, 0) << listing.err;
  EXPECT_TRUE(absl::StrContains(listing.out, " 1. ")) << listing.out;
  EXPECT_TRUE(absl::StrContains(listing.out, "VACUUM — " + Path("manual/vacuum.html")))
      << listing.out;
  EXPECT_TRUE(absl::StrContains(listing.out, "2 of 2 shards answered")) << listing.out;
}

TEST_F(CliTest, ReingestingSkipsUnchangedFilesAndReplacesChangedOnes) {
  ASSERT_EQ(Quarry({"ingest", (docs_ / "manual").string(), (docs_ / "notes").string()}).exit_code,
            0);
  CommandResult again = Quarry({"ingest", (docs_ / "manual").string(), (docs_ / "notes").string()});
  EXPECT_EQ(again.exit_code, 0) << again.err;
  EXPECT_TRUE(absl::StrContains(again.out, "ingested 0, unchanged 4, failed 0 of 4 files"))
      << again.out;

  WriteFile(docs_ / "manual" / "partial-index.md", kReplacedMd);
  CommandResult changed = Quarry({"ingest", (docs_ / "manual").string()});
  EXPECT_EQ(changed.exit_code, 0) << changed.err;
  EXPECT_TRUE(absl::StrContains(changed.out, "ingested 1, unchanged 1, failed 0 of 2 files"))
      << changed.out;

  // The document's earlier chunks are gone, not kept beside the new ones.
  const std::string id = Path("manual/partial-index.md");
  nlohmann::json found = Search("partial index predicate", {"--doc", id, "-k", "50"});
  ASSERT_FALSE(found["hits"].empty());
  for (const auto& hit : found["hits"]) {
    const std::string text = hit["text"];
    EXPECT_TRUE(absl::StrContains(text, "zebra")) << text;
    EXPECT_FALSE(absl::StrContains(text, "predicate")) << text;
  }
  EXPECT_EQ(found["hits"][0]["title"], "Zebra Cartography");

  // --force writes unchanged files again.
  CommandResult forced = Quarry({"ingest", (docs_ / "notes").string(), "--force"});
  EXPECT_TRUE(absl::StrContains(forced.out, "ingested 2, unchanged 0")) << forced.out;
}

TEST_F(CliTest, GlobsTenantsAndAclGroupsDecideWhatIsIndexedAndWhoSeesIt) {
  CommandResult ingest = Quarry({"ingest", (docs_ / "manual" / "*.md").string(), "--tenant", "acme",
                                 "--acl", "dba", "--meta", "product=postgres"});
  EXPECT_EQ(ingest.exit_code, 0) << ingest.err;
  EXPECT_TRUE(absl::StrContains(ingest.out, "ingested 1, unchanged 0, failed 0 of 1 files"))
      << ingest.out;

  const std::string query = "partial index predicate";
  EXPECT_TRUE(Search(query)["hits"].empty()) << "another tenant's document was visible";
  EXPECT_TRUE(Search(query, {"--tenant", "acme"})["hits"].empty())
      << "a caller outside the ACL group saw the document";
  nlohmann::json found = Search(query, {"--tenant", "acme", "--group", "dba"});
  ASSERT_FALSE(found["hits"].empty());
  EXPECT_EQ(found["hits"][0]["doc_id"], Path("manual/partial-index.md"));
}

TEST_F(CliTest, BadArgumentsAndAnUnreachableRouterGetClearErrors) {
  CommandResult missing = Quarry({"ingest", (docs_ / "no-such-folder").string()});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_TRUE(absl::StrContains(missing.err, "no such file")) << missing.err;

  CommandResult overlap =
      Quarry({"ingest", docs_.string(), "--chunk-tokens", "100", "--chunk-overlap", "100"});
  EXPECT_EQ(overlap.exit_code, 2);
  EXPECT_TRUE(absl::StrContains(overlap.err, "--chunk-overlap")) << overlap.err;

  CommandResult meta = Quarry({"ingest", docs_.string(), "--meta", "no-equals-sign"});
  EXPECT_EQ(meta.exit_code, 2);
  EXPECT_TRUE(absl::StrContains(meta.err, "KEY=VALUE")) << meta.err;

  CommandResult encoding = Quarry({"ingest", docs_.string(), "--encoding", "p50k_edit"});
  EXPECT_EQ(encoding.exit_code, 2);
  EXPECT_TRUE(absl::StrContains(encoding.err, "p50k_edit")) << encoding.err;

  CommandResult k = Quarry({"search", "anything", "-k", "0"});
  EXPECT_NE(k.exit_code, 0);

  // Nothing listens on port 1: a clear error, within the timeout, no hang.
  CommandResult search =
      RunQuarry({"search", "anything", "--router", "127.0.0.1:1", "--timeout", "2"});
  EXPECT_EQ(search.exit_code, 1);
  EXPECT_TRUE(absl::StrContains(search.err, "127.0.0.1:1")) << search.err;
  CommandResult ingest = RunQuarry(
      {"ingest", (docs_ / "manual").string(), "--router", "127.0.0.1:1", "--timeout", "2"});
  EXPECT_EQ(ingest.exit_code, 1);
  EXPECT_TRUE(absl::StrContains(ingest.err, "FAILED")) << ingest.err;
}

}  // namespace
}  // namespace quarry
