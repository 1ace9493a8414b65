// `quarry local`: a whole cluster on loopback in one process, each part a real gRPC server.
#ifndef QUARRY_SERVICES_CLI_LOCAL_COMMAND_H_
#define QUARRY_SERVICES_CLI_LOCAL_COMMAND_H_

#include <CLI/CLI.hpp>
#include <functional>

namespace quarry::cli {

// Adds the subcommand to `app`; `*run` is set to the function that runs it.
void AddLocalCommand(CLI::App& app, std::function<int()>* run);

}  // namespace quarry::cli

#endif  // QUARRY_SERVICES_CLI_LOCAL_COMMAND_H_
