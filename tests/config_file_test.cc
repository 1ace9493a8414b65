// `--config FILE` on the real binary: a YAML file configures a service the way its flags do,
// flags given on the command line win, the effective configuration is logged at start, and a
// file with a mistake in it stops the command with a message naming the mistake.
#include <gtest/gtest.h>

#include <fstream>
#include <string>

#include "absl/strings/match.h"
#include "shard/test_util.h"
#include "tests/quarry_process.h"

namespace quarry {
namespace {

using shard::testing::TempDir;
using testing::CommandResult;
using testing::RunQuarry;
using testing::ShardProcess;

TEST(ConfigFile, ConfiguresAServiceAndFlagsWin) {
  TempDir dir;
  const std::string config = dir.path() + "/shard.yaml";
  std::ofstream(config) << "# a shard\n"
                        << "data: " << dir.path() << "/data\n"
                        << "dim: 8\n"
                        << "shard-id: 3\n"
                        << "index: Flat\n"
                        << "max-k: 50\n"
                        << "log-json: true\n";
  ShardProcess shard({"--config", config, "--max-k", "70"});
  ASSERT_TRUE(shard.Start().ok()) << shard.Log();

  v1::StatsRequest request;
  v1::StatsResponse stats;
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  ASSERT_TRUE(shard.stub().Stats(&context, request, &stats).ok());
  EXPECT_EQ(stats.dimension(), 8u);
  EXPECT_EQ(stats.shard(), 3u);
  EXPECT_EQ(stats.max_k(), 70u);  // the flag, not the file

  // One JSON object a line, and the whole effective configuration among them.
  const std::string log = shard.Log();
  EXPECT_TRUE(absl::StartsWith(log, "{")) << log;
  EXPECT_TRUE(absl::StrContains(log, "effective configuration")) << log;
  EXPECT_TRUE(absl::StrContains(log, "dim=8")) << log;
  EXPECT_TRUE(absl::StrContains(log, "max-k=70")) << log;
  EXPECT_EQ(shard.Terminate(), 0);
}

TEST(ConfigFile, MistakesStopTheCommandNamingThem) {
  TempDir dir;
  const std::string unknown = dir.path() + "/unknown.yaml";
  std::ofstream(unknown) << "dim: 8\ndimension-typo: 9\n";
  CommandResult result = RunQuarry({"shard", "--config", unknown, "--data", dir.path()});
  EXPECT_NE(result.exit_code, 0);
  EXPECT_TRUE(absl::StrContains(result.err, "dimension-typo")) << result.err;

  const std::string broken = dir.path() + "/broken.yaml";
  std::ofstream(broken) << "dim: [8\n";
  result = RunQuarry({"shard", "--config", broken, "--data", dir.path()});
  EXPECT_NE(result.exit_code, 0);
  EXPECT_TRUE(absl::StrContains(result.err, "not valid YAML")) << result.err;

  const std::string nested = dir.path() + "/nested.yaml";
  std::ofstream(nested) << "dim:\n  value: 8\n";
  result = RunQuarry({"shard", "--config", nested, "--data", dir.path()});
  EXPECT_NE(result.exit_code, 0);
  EXPECT_TRUE(absl::StrContains(result.err, "'dim' must be a value or a list")) << result.err;

  result = RunQuarry({"shard", "--config", dir.path() + "/missing.yaml", "--data", dir.path()});
  EXPECT_NE(result.exit_code, 0);
  EXPECT_TRUE(absl::StrContains(result.err, "missing.yaml")) << result.err;
}

}  // namespace
}  // namespace quarry
