// `quarry search TEXT`: asks the router for the passages nearest to a question.
#ifndef QUARRY_SERVICES_CLI_SEARCH_COMMAND_H_
#define QUARRY_SERVICES_CLI_SEARCH_COMMAND_H_

#include <CLI/CLI.hpp>
#include <functional>

namespace quarry::cli {

// Adds the subcommand to `app`; `*run` is set to the function that runs it.
void AddSearchCommand(CLI::App& app, std::function<int()>* run);

}  // namespace quarry::cli

#endif  // QUARRY_SERVICES_CLI_SEARCH_COMMAND_H_
