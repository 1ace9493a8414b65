// `quarry ask`: asks the answer service a question and streams the answer to the terminal,
// then lists its sources.
#ifndef QUARRY_SERVICES_CLI_ASK_COMMAND_H_
#define QUARRY_SERVICES_CLI_ASK_COMMAND_H_

#include <CLI/CLI.hpp>
#include <functional>

namespace quarry::cli {

// Adds the subcommand to `app`; `*run` is set to the function that runs it.
void AddAskCommand(CLI::App& app, std::function<int()>* run);

}  // namespace quarry::cli

#endif  // QUARRY_SERVICES_CLI_ASK_COMMAND_H_
