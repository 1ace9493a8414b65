// Options from a YAML file for any subcommand, and the effective configuration to log.
//
// `quarry SUBCOMMAND --config FILE` reads FILE as a YAML map from option names (long names
// without the dashes, e.g. `listen`, `dim`, `log-json`) to a value or a list of values, and
// applies them to the subcommand being run; flags given on the command line win over the
// file. An unknown name or a file that does not parse stops the command with a message naming
// the file and the problem.
//
//   # shard.yaml
//   listen: 0.0.0.0:7310
//   data: /var/lib/quarry/shard0
//   dim: 768
//   index: HNSW32
//   log-json: true
#ifndef QUARRY_SERVICES_CLI_CONFIG_FILE_H_
#define QUARRY_SERVICES_CLI_CONFIG_FILE_H_

#include <CLI/CLI.hpp>
#include <string>

namespace quarry::cli {

// Adds --config to `app` (the top-level application, before its subcommands are parsed) and
// lets subcommands take it after their name.
void AddConfigFileOption(CLI::App& app);

// The options `command` runs with, defaults included, as one line of `name=value` pairs.
// Values of options whose name mentions a key, secret, token or password are masked.
std::string EffectiveConfiguration(const CLI::App& command);

}  // namespace quarry::cli

#endif  // QUARRY_SERVICES_CLI_CONFIG_FILE_H_
