// `quarry answer`: serves the Answer API over a router, with an optional LLM.
#ifndef QUARRY_SERVICES_CLI_ANSWER_COMMAND_H_
#define QUARRY_SERVICES_CLI_ANSWER_COMMAND_H_

#include <CLI/CLI.hpp>
#include <functional>

namespace quarry::cli {

// Adds the subcommand to `app`; `*run` is set to the function that runs it.
void AddAnswerCommand(CLI::App& app, std::function<int()>* run);

}  // namespace quarry::cli

#endif  // QUARRY_SERVICES_CLI_ANSWER_COMMAND_H_
