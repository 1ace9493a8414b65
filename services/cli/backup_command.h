// `quarry backup`: a consistent online backup of a whole cluster, through its router.
#ifndef QUARRY_SERVICES_CLI_BACKUP_COMMAND_H_
#define QUARRY_SERVICES_CLI_BACKUP_COMMAND_H_

#include <CLI/CLI.hpp>
#include <functional>

namespace quarry::cli {

// Adds the subcommand to `app`; `*run` is set to the function that runs it.
void AddBackupCommand(CLI::App& app, std::function<int()>* run);

}  // namespace quarry::cli

#endif  // QUARRY_SERVICES_CLI_BACKUP_COMMAND_H_
