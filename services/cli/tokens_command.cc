#include "services/cli/tokens_command.h"

#include <cstdio>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "services/text/tokenizer.h"

namespace quarry::cli {
namespace {

struct TokensFlags {
  std::string encoding = "o200k_base";
  std::vector<std::string> files;
};

absl::StatusOr<std::string> ReadWholeFile(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) return absl::NotFoundError(absl::StrCat("cannot open ", path));
  std::ostringstream contents;
  contents << file.rdbuf();
  if (file.bad()) return absl::DataLossError(absl::StrCat("cannot read ", path));
  return contents.str();
}

// Prints "COUNT PATH" per file and, for several files, "COUNT total"; 1 when a file could not
// be read (the others are still counted), 2 when the encoding cannot be loaded.
int RunTokens(const TokensFlags& flags) {
  absl::StatusOr<std::unique_ptr<text::Tokenizer>> tokenizer =
      text::Tokenizer::Create(flags.encoding);
  if (!tokenizer.ok()) {
    std::fprintf(stderr, "quarry tokens: %s\n", std::string(tokenizer.status().message()).c_str());
    return 2;
  }

  size_t total = 0;
  int exit_code = 0;
  for (const std::string& path : flags.files) {
    absl::StatusOr<std::string> contents = ReadWholeFile(path);
    if (!contents.ok()) {
      std::fprintf(stderr, "quarry tokens: %s\n", std::string(contents.status().message()).c_str());
      exit_code = 1;
      continue;
    }
    const size_t count = (*tokenizer)->Count(*contents);
    total += count;
    std::printf("%zu %s\n", count, path.c_str());
  }
  if (flags.files.size() > 1) std::printf("%zu total\n", total);
  return exit_code;
}

}  // namespace

void AddTokensCommand(CLI::App& app, std::function<int()>* run) {
  auto flags = std::make_shared<TokensFlags>();
  CLI::App* command = app.add_subcommand(
      "tokens", "Count the tokens of files as an OpenAI model counts them (exact tiktoken ids)");
  command
      ->add_option("--encoding", flags->encoding,
                   "cl100k_base (GPT-4, GPT-3.5) or o200k_base (GPT-4o and later)")
      ->capture_default_str();
  command->add_option("files", flags->files, "Files to count")->required();
  command->callback([flags, run] { *run = [flags] { return RunTokens(*flags); }; });
}

}  // namespace quarry::cli
