#include "services/cli/shard_command.h"

#include <signal.h>

#include <memory>
#include <string>

#include "services/cli/config_file.h"
#include "services/cli/security_flags.h"
#include "services/cli/service_flags.h"
#include "services/runtime/log.h"
#include "services/runtime/server.h"
#include "shard/shard_server.h"

namespace quarry::cli {
namespace {

struct ShardFlags {
  std::string listen = "127.0.0.1:7310";
  std::string data_dir;
  int dimension = 0;
  std::string index_spec = "Flat";
  std::string metric = "ip";
  uint32_t shard_id = 0;
  int max_k = 1000;
  size_t train_min = 0;
  int nprobe = 16;
  int ef_search = 64;
  double snapshot_interval_s = 60;
  uint64_t snapshot_after_writes = 20000;
  int max_message_mb = 64;
  runtime::TlsFiles tls;
  ServiceFlags service;
};

int RunShard(const ShardFlags& flags, const std::string& configuration) {
  runtime::BlockTerminationSignals();
  absl::Status logging = runtime::ConfigureLogging(flags.service.log_level, flags.service.log_json);
  auto log = runtime::Logger("shard");
  if (!logging.ok()) {
    log->error("{}", logging.message());
    return 2;
  }
  absl::StatusOr<shard::Metric> metric = shard::ParseMetric(flags.metric);
  if (!metric.ok()) {
    log->error("{}", metric.status().message());
    return 2;
  }
  absl::StatusOr<runtime::TlsConfig> tls =
      runtime::TlsConfig::Load(flags.tls, runtime::TlsRole::kService);
  if (!tls.ok()) {
    log->error("{}", tls.status().message());
    return 2;
  }
  log->info(
      "quarry {} shard {} starting: listen={} data={} dim={} index='{}' metric={} "
      "max_k={} nprobe={} ef_search={} transport={}",
      runtime::Version(), flags.shard_id, flags.listen, flags.data_dir, flags.dimension,
      flags.index_spec, flags.metric, flags.max_k, flags.nprobe, flags.ef_search, tls->Describe());
  log->info("effective configuration: {}", configuration);

  shard::ShardServerOptions options;
  options.listen = flags.listen;
  options.tls = *std::move(tls);
  options.max_message_bytes = flags.max_message_mb << 20;
  options.metrics_listen = flags.service.metrics_listen;
  options.drain = flags.service.drain();
  options.shard.data_dir = flags.data_dir;
  options.shard.shard_id = flags.shard_id;
  options.shard.dimension = flags.dimension;
  options.shard.metric = *metric;
  options.shard.index_spec = flags.index_spec;
  options.shard.limits.max_k = flags.max_k;
  options.shard.train_min = flags.train_min;
  options.shard.default_nprobe = flags.nprobe;
  options.shard.default_ef_search = flags.ef_search;
  options.shard.snapshot_interval =
      std::chrono::milliseconds(static_cast<int64_t>(flags.snapshot_interval_s * 1000));
  options.shard.snapshot_after_writes = flags.snapshot_after_writes;

  absl::StatusOr<std::unique_ptr<shard::ShardServer>> server = shard::ShardServer::Start(options);
  if (!server.ok()) {
    log->error("{}", server.status().message());
    return 1;
  }
  WritePortFile(flags.service, (*server)->port());

  int signal_number;
  while ((signal_number = runtime::WaitForSignal()) == SIGHUP) {
  }
  log->info("received signal {}; draining", signal_number);
  absl::Status stopped = (*server)->Stop();
  if (!stopped.ok()) {
    log->error("{}", stopped.message());
    return 1;
  }
  log->info("stopped cleanly");
  return 0;
}

}  // namespace

void AddShardCommand(CLI::App& app, std::function<int()>* run) {
  auto flags = std::make_shared<ShardFlags>();
  CLI::App* command = app.add_subcommand(
      "shard", "Serve one shard: a RocksDB partition with a FAISS index, over gRPC");
  command
      ->add_option("--listen", flags->listen,
                   "Address to serve gRPC on (host:port; port 0 "
                   "picks a free one)")
      ->capture_default_str();
  command->add_option("--data", flags->data_dir, "Data directory (created if missing)")->required();
  command
      ->add_option("--dim", flags->dimension,
                   "Vector dimension; fixed when the data "
                   "directory is created")
      ->required()
      ->check(CLI::Range(1, 65536));
  command
      ->add_option("--index", flags->index_spec,
                   "FAISS index_factory spec: Flat, IVF1024,Flat, IVF4096,PQ32, HNSW32, ...")
      ->capture_default_str();
  command->add_option("--metric", flags->metric, "ip (cosine on normalised vectors) or l2")
      ->capture_default_str();
  command->add_option("--shard-id", flags->shard_id, "This shard's number in the cluster")
      ->capture_default_str();
  command->add_option("--max-k", flags->max_k, "Largest k a search may ask for")
      ->capture_default_str()
      ->check(CLI::Range(1, 100000));
  command
      ->add_option("--train-min", flags->train_min,
                   "Vectors before an IVF/PQ index is trained (0: 39 per list)")
      ->capture_default_str();
  command->add_option("--nprobe", flags->nprobe, "Default IVF lists probed per search")
      ->capture_default_str()
      ->check(CLI::Range(1, 65536));
  command->add_option("--ef-search", flags->ef_search, "Default HNSW candidate list size")
      ->capture_default_str()
      ->check(CLI::Range(1, 65536));
  command
      ->add_option("--snapshot-interval", flags->snapshot_interval_s,
                   "Seconds between index snapshots while writes arrive")
      ->capture_default_str();
  command
      ->add_option("--snapshot-after-writes", flags->snapshot_after_writes,
                   "Snapshot once this many writes are not covered")
      ->capture_default_str();
  command->add_option("--max-message-mb", flags->max_message_mb, "Largest gRPC message, MiB")
      ->capture_default_str()
      ->check(CLI::Range(1, 1024));
  AddServiceOptions(command, &flags->service);
  AddTlsOptions(command, &flags->tls, TlsUse::kServer);
  command->callback([flags, run, command] {
    *run = [flags, configuration = EffectiveConfiguration(*command)] {
      return RunShard(*flags, configuration);
    };
  });
}

}  // namespace quarry::cli
