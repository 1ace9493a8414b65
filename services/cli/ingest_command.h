// `quarry ingest PATH...`: extracts, chunks and sends files to the router, which embeds and
// stores them.
#ifndef QUARRY_SERVICES_CLI_INGEST_COMMAND_H_
#define QUARRY_SERVICES_CLI_INGEST_COMMAND_H_

#include <CLI/CLI.hpp>
#include <functional>

namespace quarry::cli {

// Adds the subcommand to `app`; `*run` is set to the function that runs it.
void AddIngestCommand(CLI::App& app, std::function<int()>* run);

}  // namespace quarry::cli

#endif  // QUARRY_SERVICES_CLI_INGEST_COMMAND_H_
