// `quarry router`: serves the retrieval API over the shards of a topology file.
#ifndef QUARRY_SERVICES_CLI_ROUTER_COMMAND_H_
#define QUARRY_SERVICES_CLI_ROUTER_COMMAND_H_

#include <CLI/CLI.hpp>
#include <functional>

namespace quarry::cli {

// Adds the subcommand to `app`; `*run` is set to the function that runs it.
void AddRouterCommand(CLI::App& app, std::function<int()>* run);

}  // namespace quarry::cli

#endif  // QUARRY_SERVICES_CLI_ROUTER_COMMAND_H_
