// The command-line options every served process shares (`quarry shard`, `quarry router`,
// `quarry answer`): drain grace, where metrics go, the port file, and logging.
#ifndef QUARRY_SERVICES_CLI_SERVICE_FLAGS_H_
#define QUARRY_SERVICES_CLI_SERVICE_FLAGS_H_

#include <CLI/CLI.hpp>
#include <chrono>
#include <string>

namespace quarry::cli {

struct ServiceFlags {
  double drain_s = 10;         // grace for calls in flight on SIGTERM, seconds
  std::string metrics_listen;  // "": gRPC port + 1000; "off": none
  std::string port_file;       // where to write the bound gRPC port; "": nowhere
  std::string log_level = "info";
  bool log_json = false;

  std::chrono::milliseconds drain() const {
    return std::chrono::milliseconds(static_cast<int64_t>(drain_s * 1000));
  }
};

// Adds --drain-seconds, --metrics-listen, --port-file, --log-level and --log-json to `command`.
void AddServiceOptions(CLI::App* command, ServiceFlags* flags);

// Writes `port` to flags.port_file, when one was asked for.
void WritePortFile(const ServiceFlags& flags, int port);

}  // namespace quarry::cli

#endif  // QUARRY_SERVICES_CLI_SERVICE_FLAGS_H_
