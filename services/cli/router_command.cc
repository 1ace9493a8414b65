#include "services/cli/router_command.h"

#include <signal.h>

#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "router/router_server.h"
#include "router/topology.h"
#include "services/cli/config_file.h"
#include "services/cli/embedder_flags.h"
#include "services/cli/security_flags.h"
#include "services/cli/service_flags.h"
#include "services/runtime/log.h"
#include "services/runtime/server.h"

namespace quarry::cli {
namespace {

struct RouterFlags {
  std::string listen = "127.0.0.1:7300";
  std::string topology_file;
  EmbedderFlags embedder;
  double default_timeout_s = 10;
  double hedge_quantile = 0.95;
  double hedge_delay_ms = 0;
  double initial_hedge_delay_ms = 20;
  int eject_after_errors = 3;
  double eject_seconds = 2;
  double health_interval_s = 0.5;
  int max_message_mb = 64;
  int event_loops = 1;
  runtime::TlsFiles tls;
  std::string api_keys_file;
  ServiceFlags service;
};

std::chrono::milliseconds Millis(double seconds) {
  return std::chrono::milliseconds(static_cast<int64_t>(seconds * 1000));
}

int RunRouter(const RouterFlags& flags, const std::string& configuration) {
  runtime::BlockTerminationSignals();
  absl::Status logging = runtime::ConfigureLogging(flags.service.log_level, flags.service.log_json);
  auto log = runtime::Logger("router");
  if (!logging.ok()) {
    log->error("{}", logging.message());
    return 2;
  }
  absl::StatusOr<router::EmbedderFactory> embedder = MakeEmbedderFactory(flags.embedder);
  if (!embedder.ok()) {
    log->error("{}", embedder.status().message());
    return 2;
  }
  absl::StatusOr<router::Topology> topology = router::LoadTopology(flags.topology_file);
  if (!topology.ok()) {
    log->error("{}", topology.status().message());
    return 2;
  }
  absl::StatusOr<runtime::TlsConfig> tls =
      runtime::TlsConfig::Load(flags.tls, runtime::TlsRole::kService);
  if (!tls.ok()) {
    log->error("{}", tls.status().message());
    return 2;
  }
  absl::StatusOr<std::shared_ptr<const runtime::ApiKeyTable>> api_keys =
      LoadApiKeys(flags.api_keys_file);
  if (!api_keys.ok()) {
    log->error("{}", api_keys.status().message());
    return 2;
  }
  size_t replicas = 0;
  for (const router::ShardTopology& shard : topology->shards) replicas += shard.replicas.size();
  log->info(
      "quarry {} router starting: listen={} topology={} ({} shards, {} replicas) "
      "timeout={}s hedge_quantile={} hedge_delay_ms={} embedder={} transport={} api_keys={}",
      runtime::Version(), flags.listen, flags.topology_file, topology->shards.size(), replicas,
      flags.default_timeout_s, flags.hedge_quantile, flags.hedge_delay_ms,
      DescribeEmbedder(flags.embedder), tls->Describe(),
      *api_keys ? absl::StrCat((*api_keys)->size(), " from ", flags.api_keys_file) : "off");
  log->info("effective configuration: {}", configuration);

  router::RouterServerOptions options;
  options.listen = flags.listen;
  options.topology = *std::move(topology);
  options.cluster.replica.eject_after_errors = flags.eject_after_errors;
  options.cluster.replica.eject_for = Millis(flags.eject_seconds);
  options.cluster.health_interval = Millis(flags.health_interval_s);
  options.router.default_timeout = Millis(flags.default_timeout_s);
  options.router.hedge.quantile = flags.hedge_quantile;
  options.router.hedge.fixed_delay =
      std::chrono::microseconds(static_cast<int64_t>(flags.hedge_delay_ms * 1000));
  options.router.hedge.initial_delay =
      std::chrono::microseconds(static_cast<int64_t>(flags.initial_hedge_delay_ms * 1000));
  options.embedder = *std::move(embedder);
  options.tls = *std::move(tls);
  options.router.api_keys = *std::move(api_keys);
  options.max_message_bytes = flags.max_message_mb << 20;
  options.metrics_listen = flags.service.metrics_listen;
  options.drain = flags.service.drain();
  options.event_loops = flags.event_loops;
  absl::StatusOr<std::unique_ptr<router::RouterServer>> server =
      router::RouterServer::Start(std::move(options));
  if (!server.ok()) {
    log->error("{}", server.status().message());
    return 1;
  }
  WritePortFile(flags.service, (*server)->port());

  int signal_number;
  while ((signal_number = runtime::WaitForSignal()) == SIGHUP) {
    absl::StatusOr<router::Topology> reloaded = router::LoadTopology(flags.topology_file);
    absl::Status applied = reloaded.ok() ? (*server)->Reload(*reloaded) : reloaded.status();
    if (applied.ok()) {
      log->info("reloaded the topology from {}", flags.topology_file);
    } else {
      log->error("kept the old topology: {}", applied.message());
    }
  }
  log->info("received signal {}; draining", signal_number);
  (*server)->Stop();
  log->info("stopped cleanly");
  return 0;
}

}  // namespace

void AddRouterCommand(CLI::App& app, std::function<int()>* run) {
  auto flags = std::make_shared<RouterFlags>();
  CLI::App* command = app.add_subcommand(
      "router", "Serve the retrieval API: place documents on shards, fan searches out, merge");
  command->add_option("--listen", flags->listen, "Address to serve gRPC on (host:port)")
      ->capture_default_str();
  command
      ->add_option("--topology", flags->topology_file,
                   "YAML file listing the shards and their replicas; SIGHUP reloads it")
      ->required();
  AddEmbedderOptions(command, &flags->embedder);
  command
      ->add_option("--default-timeout", flags->default_timeout_s,
                   "Seconds a search may take when the caller sets no deadline")
      ->capture_default_str();
  command
      ->add_option("--hedge-quantile", flags->hedge_quantile,
                   "Ask a second replica when the first is slower than this quantile of "
                   "the shard's recent latency")
      ->capture_default_str()
      ->check(CLI::Range(0.5, 1.0));
  command
      ->add_option("--hedge-delay-ms", flags->hedge_delay_ms,
                   "A fixed hedge delay instead of the quantile (0: use the quantile)")
      ->capture_default_str();
  command
      ->add_option("--initial-hedge-delay-ms", flags->initial_hedge_delay_ms,
                   "Hedge delay until a shard's latency is known")
      ->capture_default_str();
  command
      ->add_option("--eject-after-errors", flags->eject_after_errors,
                   "Consecutive errors that take a replica out of rotation")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000));
  command
      ->add_option("--eject-seconds", flags->eject_seconds,
                   "How long an ejected replica stays out before health checks may "
                   "bring it back")
      ->capture_default_str();
  command
      ->add_option("--health-interval", flags->health_interval_s,
                   "Seconds between health checks of every replica")
      ->capture_default_str();
  command->add_option("--max-message-mb", flags->max_message_mb, "Largest gRPC message, MiB")
      ->capture_default_str()
      ->check(CLI::Range(1, 1024));
  command
      ->add_option("--event-loops", flags->event_loops,
                   "Threads that serve searches, each on a completion queue of its own; one "
                   "serves thousands of searches a second, and each more adds a core's worth")
      ->capture_default_str()
      ->check(CLI::Range(1, 64));
  AddServiceOptions(command, &flags->service);
  AddTlsOptions(command, &flags->tls, TlsUse::kServerAndClient);
  AddApiKeysOption(command, &flags->api_keys_file);
  command->callback([flags, run, command] {
    *run = [flags, configuration = EffectiveConfiguration(*command)] {
      return RunRouter(*flags, configuration);
    };
  });
}

}  // namespace quarry::cli
