// Runs `quarry tokens` as a user would and checks what it prints and how it exits.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

namespace quarry::cli {
namespace {

struct CommandResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr
};

CommandResult RunQuarry(const std::string& arguments) {
  const char* binary = std::getenv("QUARRY_BIN");
  CommandResult result;
  if (binary == nullptr) {
    ADD_FAILURE() << "QUARRY_BIN is not set";
    return result;
  }
  FILE* pipe = popen((std::string(binary) + " " + arguments + " 2>&1").c_str(), "r");
  if (pipe == nullptr) return result;
  char buffer[4096];
  size_t read;
  while ((read = std::fread(buffer, 1, sizeof(buffer), pipe)) > 0)
    result.output.append(buffer, read);
  const int status = pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

class TokensCommandTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::path(::testing::TempDir()) / "tokens_command";
    std::filesystem::create_directories(dir_);
    std::ofstream(dir_ / "hello.txt") << "hello world";
    std::ofstream(dir_ / "empty.txt");
  }
  std::string PathOf(const std::string& name) const { return (dir_ / name).string(); }

  std::filesystem::path dir_;
};

TEST_F(TokensCommandTest, PrintsCountsPerFileAndATotal) {
  CommandResult result =
      RunQuarry("tokens --encoding cl100k_base " + PathOf("hello.txt") + " " + PathOf("empty.txt"));
  EXPECT_EQ(result.exit_code, 0) << result.output;
  EXPECT_EQ(result.output,
            "2 " + PathOf("hello.txt") + "\n0 " + PathOf("empty.txt") + "\n2 total\n");
}

TEST_F(TokensCommandTest, FailsClearlyOnAMissingFile) {
  CommandResult result = RunQuarry("tokens " + PathOf("hello.txt") + " " + PathOf("missing.txt"));
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_NE(result.output.find("cannot open " + PathOf("missing.txt")), std::string::npos)
      << result.output;
  EXPECT_NE(result.output.find("2 " + PathOf("hello.txt")), std::string::npos) << result.output;
}

TEST_F(TokensCommandTest, FailsClearlyOnAnUnknownEncoding) {
  CommandResult result = RunQuarry("tokens --encoding nope " + PathOf("hello.txt"));
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_NE(result.output.find("unknown encoding \"nope\""), std::string::npos) << result.output;
}

}  // namespace
}  // namespace quarry::cli
