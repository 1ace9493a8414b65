// `quarry status`: the shards and replicas of a cluster as its router sees them.
#ifndef QUARRY_SERVICES_CLI_STATUS_COMMAND_H_
#define QUARRY_SERVICES_CLI_STATUS_COMMAND_H_

#include <CLI/CLI.hpp>
#include <functional>

namespace quarry::cli {

// Adds the subcommand to `app`; `*run` is set to the function that runs it.
void AddStatusCommand(CLI::App& app, std::function<int()>* run);

}  // namespace quarry::cli

#endif  // QUARRY_SERVICES_CLI_STATUS_COMMAND_H_
