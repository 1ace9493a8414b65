// `quarry restore`: a cluster or shard backup copied into fresh data directories.
#ifndef QUARRY_SERVICES_CLI_RESTORE_COMMAND_H_
#define QUARRY_SERVICES_CLI_RESTORE_COMMAND_H_

#include <CLI/CLI.hpp>
#include <functional>

namespace quarry::cli {

// Adds the subcommand to `app`; `*run` is set to the function that runs it.
void AddRestoreCommand(CLI::App& app, std::function<int()>* run);

}  // namespace quarry::cli

#endif  // QUARRY_SERVICES_CLI_RESTORE_COMMAND_H_
