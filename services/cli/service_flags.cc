#include "services/cli/service_flags.h"

#include <fstream>

namespace quarry::cli {

void AddServiceOptions(CLI::App* command, ServiceFlags* flags) {
  command
      ->add_option("--drain-seconds", flags->drain_s, "Grace period for calls in flight on SIGTERM")
      ->capture_default_str();
  command->add_option(
      "--metrics-listen", flags->metrics_listen,
      "Serve Prometheus metrics at /metrics on this host:port; default: the gRPC "
      "port + 1000 on the same host (any free port when --listen has port 0); 'off' "
      "serves none");
  command->add_option("--port-file", flags->port_file, "Write the bound port to this file");
  command->add_option("--log-level", flags->log_level, "trace, debug, info, warn or error")
      ->capture_default_str();
  command->add_flag("--log-json", flags->log_json, "Log one JSON object per line");
}

void WritePortFile(const ServiceFlags& flags, int port) {
  if (!flags.port_file.empty()) std::ofstream(flags.port_file) << port << "\n";
}

}  // namespace quarry::cli
