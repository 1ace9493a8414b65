// Every service's /metrics endpoint as an operator's Prometheus sees it: a whole `quarry local`
// cluster on free ports does some work through the CLI, then each endpoint (gRPC port + 1000)
// is scraped over HTTP, checked for the families it must have, for labels that never carry a
// tenant or document id, and linted by `promtool check metrics`.
#include <curl/curl.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "shard/test_util.h"
#include "tests/quarry_process.h"

namespace quarry {
namespace {

namespace fs = std::filesystem;
using testing::CommandResult;
using testing::QuarryProcess;
using testing::RunQuarry;

constexpr int kShards = 2;
constexpr char kPromtool[] = "/usr/bin/promtool";

size_t Append(char* data, size_t size, size_t count, void* out) {
  static_cast<std::string*>(out)->append(data, size * count);
  return size * count;
}

// GET http://127.0.0.1:port/metrics; the body, or "" with the HTTP status in `status`.
std::string Scrape(int port, long* status) {
  std::string body;
  CURL* curl = curl_easy_init();
  const std::string url = absl::StrCat("http://127.0.0.1:", port, "/metrics");
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, Append);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &body);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 10000L);
  *status = 0;
  if (curl_easy_perform(curl) == CURLE_OK) curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, status);
  curl_easy_cleanup(curl);
  return body;
}

// The value of the first sample whose line starts with `series` (name and labels, as printed).
double Sample(const std::string& text, const std::string& series) {
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    if (!absl::StartsWith(line, series + " ")) continue;
    double value = 0;
    if (absl::SimpleAtod(line.substr(series.size() + 1), &value)) return value;
  }
  return -1;
}

// Runs `promtool check metrics` on `text`; its exit code and what it said.
std::pair<int, std::string> Promtool(const std::string& text, const std::string& dir) {
  const std::string input = dir + "/scrape.txt";
  const std::string output = dir + "/promtool.out";
  std::ofstream(input) << text;
  const std::string command =
      absl::StrCat(kPromtool, " check metrics < ", input, " > ", output, " 2>&1");
  const int status = std::system(command.c_str());
  std::ifstream in(output);
  std::string said((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return {WEXITSTATUS(status), said};
}

TEST(Metrics, EveryServiceServesLintCleanPrometheusText) {
  ASSERT_TRUE(fs::exists(kPromtool)) << "promtool is missing: scripts/bootstrap installs it";
  const int base = testing::FreeBasePort(20);
  ASSERT_NE(base, 0);
  shard::testing::TempDir dir;
  const std::string router = absl::StrCat("127.0.0.1:", base);
  const std::string answer = absl::StrCat("127.0.0.1:", base + 1);
  QuarryProcess local("local",
                      {"--data", dir.path() + "/data", "--base-port", std::to_string(base),
                       "--shards", std::to_string(kShards)},
                      router);
  ASSERT_TRUE(local.Start().ok()) << local.Log();

  // Some work for every part: documents in, a search, a question.
  fs::create_directories(dir.path() + "/docs");
  std::ofstream(dir.path() + "/docs/secret-tenant-doc.md")
      << "# Vacuum\n\nVACUUM FULL takes an ACCESS EXCLUSIVE lock on the table it rewrites.\n";
  std::ofstream(dir.path() + "/docs/indexes.md")
      << "# Indexes\n\nA partial index covers the rows that satisfy its predicate.\n";
  CommandResult ingest = RunQuarry(
      {"ingest", dir.path() + "/docs", "--router", router, "--tenant", "acme-private-tenant"});
  ASSERT_EQ(ingest.exit_code, 0) << ingest.err;
  CommandResult search = RunQuarry(
      {"search", "VACUUM FULL lock", "--router", router, "--tenant", "acme-private-tenant"});
  ASSERT_EQ(search.exit_code, 0) << search.err;
  CommandResult ask = RunQuarry({"ask", "What does VACUUM FULL lock?", "--answer", answer,
                                 "--tenant", "acme-private-tenant"});
  ASSERT_EQ(ask.exit_code, 0) << ask.err;
  CommandResult bad = RunQuarry({"search", "x", "--router", router, "--tenant", "no spaces"});
  EXPECT_NE(bad.exit_code, 0);

  struct Endpoint {
    std::string service;
    int port;
    std::vector<std::string> families;
  };
  std::vector<Endpoint> endpoints = {
      {"router",
       base + 1000,
       {"quarry_router_shard_search_seconds_bucket", "quarry_router_hedges_total",
        "quarry_router_hedges_won_total", "quarry_router_partial_results_total",
        "quarry_router_replica_ejections_total", "quarry_router_ingest_documents_total",
        "quarry_router_ingest_bytes_total", "quarry_router_shards"}},
      {"answer",
       base + 1001,
       {"quarry_answer_prompt_tokens_bucket", "quarry_answer_budget_used_ratio_bucket",
        "quarry_answer_passages_dropped_total", "quarry_answer_llm_first_token_seconds_bucket",
        "quarry_answer_llm_seconds_bucket"}}};
  for (int s = 0; s < kShards; ++s) {
    endpoints.push_back(
        {"shard",
         base + 1010 + s,
         {"quarry_shard_documents", "quarry_shard_chunks", "quarry_shard_vectors",
          "quarry_shard_tombstones", "quarry_shard_rocksdb_live_bytes",
          "quarry_shard_rocksdb_pending_compaction_bytes", "quarry_shard_search_seconds_bucket",
          "quarry_shard_index_operation_seconds_bucket", "quarry_shard_ready"}});
  }

  double shard_chunks = 0;
  for (const Endpoint& endpoint : endpoints) {
    SCOPED_TRACE(absl::StrCat(endpoint.service, " metrics on port ", endpoint.port));
    long status = 0;
    const std::string text = Scrape(endpoint.port, &status);
    ASSERT_EQ(status, 200) << text;

    // What every service has: the gRPC server metrics, the process and the build.
    for (const char* family :
         {"grpc_server_started_total", "grpc_server_handled_total",
          "grpc_server_handling_seconds_bucket", "process_resident_memory_bytes",
          "process_cpu_seconds_total", "process_open_fds", "quarry_build_info"}) {
      EXPECT_TRUE(absl::StrContains(text, family)) << family;
    }
    EXPECT_TRUE(absl::StrContains(text, absl::StrCat("service=\"", endpoint.service, "\"")));
    for (const std::string& family : endpoint.families) {
      EXPECT_TRUE(absl::StrContains(text, family)) << family;
    }
    // Label values never carry who asked or what was stored.
    EXPECT_FALSE(absl::StrContains(text, "acme-private-tenant"));
    EXPECT_FALSE(absl::StrContains(text, "secret-tenant-doc"));

    auto [code, said] = Promtool(text, dir.path());
    EXPECT_EQ(code, 0) << said;
    EXPECT_TRUE(said.empty()) << said;

    if (endpoint.service == "shard") {
      shard_chunks += Sample(text, "quarry_shard_chunks");
      EXPECT_EQ(Sample(text, "quarry_shard_ready"), 1);
    }
    if (endpoint.service == "router") {
      EXPECT_EQ(Sample(text, "quarry_router_ingest_documents_total"), 2);
      EXPECT_EQ(Sample(text, "quarry_router_shards{state=\"reachable\"}"), kShards);
      EXPECT_GE(Sample(text,
                       "grpc_server_handled_total{grpc_code=\"OK\",grpc_method=\"Search\","
                       "grpc_service=\"quarry.v1.Router\",grpc_type=\"unary\"}"),
                2);
      EXPECT_EQ(Sample(text,
                       "grpc_server_handled_total{grpc_code=\"InvalidArgument\","
                       "grpc_method=\"Search\",grpc_service=\"quarry.v1.Router\","
                       "grpc_type=\"unary\"}"),
                1);
    }
    if (endpoint.service == "answer") {
      EXPECT_EQ(Sample(text, "quarry_answer_prompt_tokens_count"), 1);
      EXPECT_EQ(Sample(text,
                       "grpc_server_handled_total{grpc_code=\"OK\",grpc_method=\"Ask\","
                       "grpc_service=\"quarry.v1.Answer\",grpc_type=\"server_stream\"}"),
                1);
    }
  }
  EXPECT_EQ(shard_chunks, 2);
  EXPECT_EQ(local.Terminate(), 0) << local.Log();
}

}  // namespace
}  // namespace quarry
