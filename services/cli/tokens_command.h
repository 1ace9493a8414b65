// `quarry tokens`: counts the tokens of files with an exact OpenAI tokenizer.
#ifndef QUARRY_SERVICES_CLI_TOKENS_COMMAND_H_
#define QUARRY_SERVICES_CLI_TOKENS_COMMAND_H_

#include <CLI/CLI.hpp>
#include <functional>

namespace quarry::cli {

// Adds the subcommand to `app`; `*run` is set to the function that runs it.
void AddTokensCommand(CLI::App& app, std::function<int()>* run);

}  // namespace quarry::cli

#endif  // QUARRY_SERVICES_CLI_TOKENS_COMMAND_H_
