#include "shard/shard_server.h"

#include <signal.h>
#include <unistd.h>

#include <utility>

#include "absl/strings/str_cat.h"
#include "services/runtime/log.h"

namespace quarry::shard {

absl::StatusOr<std::unique_ptr<ShardServer>> ShardServer::Start(const ShardServerOptions& options) {
  std::unique_ptr<ShardServer> server(new ShardServer(options));
  runtime::GrpcServerOptions grpc_options;
  grpc_options.listen = options.listen;
  grpc_options.max_receive_message_bytes = options.max_message_bytes;
  grpc_options.max_send_message_bytes = options.max_message_bytes;
  grpc_options.credentials = options.tls.ServerCredentials();
  grpc_options.metrics = &server->metrics_;
  grpc_options.health_services = {v1::Shard::service_full_name()};
  absl::StatusOr<runtime::RunningServer> running =
      runtime::StartGrpcServer(grpc_options, {&server->service_});
  if (!running.ok()) return running.status();
  server->server_ = *std::move(running);
  server->port_ = server->server_.port;

  absl::Status metrics =
      server->metrics_.ServeBesideGrpc(options.metrics_listen, options.listen, server->port_);
  if (!metrics.ok()) return metrics;
  server->metrics_.AddScraped([raw = server.get()] { return raw->MetricValues(); });
  runtime::Logger("shard")->info("shard {} listening on port {}", options.shard.shard_id,
                                 server->port_);
  server->opener_ = std::thread([raw = server.get()] { raw->Open(); });
  return server;
}

ShardServer::ShardServer(const ShardServerOptions& options)
    : options_(options), shard_metrics_(metrics_.registry(), options.shard.index_spec) {}

std::vector<runtime::ScrapedValue> ShardServer::MetricValues() {
  absl::MutexLock lock(&mu_);
  if (shard_ == nullptr) return ShardValues(nullptr);
  const v1::StatsResponse stats = shard_->Stats();
  return ShardValues(&stats);
}

ShardServer::~ShardServer() {
  if (!stopped_) (void)Stop();
  metrics_.Stop();
}

void ShardServer::Open() {
  auto log = runtime::Logger("shard");
  ShardOptions shard_options = options_.shard;
  shard_options.metrics = &shard_metrics_;
  absl::StatusOr<std::unique_ptr<Shard>> opened = Shard::Open(shard_options);
  if (!opened.ok()) {
    log->error("cannot open shard {} in {}: {}", options_.shard.shard_id, options_.shard.data_dir,
               opened.status().message());
    {
      absl::MutexLock lock(&mu_);
      open_status_ = opened.status();
    }
    kill(getpid(), SIGTERM);
    return;
  }
  absl::MutexLock lock(&mu_);
  shard_ = *std::move(opened);
  service_.SetShard(shard_.get());
  runtime::SetServing(server_, true);
  ready_ = true;
  log->info("shard {} serving", options_.shard.shard_id);
}

absl::Status ShardServer::Stop() {
  stopped_ = true;
  if (!server_.server) return absl::OkStatus();  // never started
  runtime::DrainAndShutdown(server_, service_.gate(), options_.drain);
  opener_.join();
  ready_ = false;

  absl::MutexLock lock(&mu_);
  if (!open_status_.ok()) return open_status_;
  service_.SetShard(nullptr);
  absl::Status closed = shard_->Close();
  if (!closed.ok()) {
    return absl::Status(closed.code(),
                        absl::StrCat("final snapshot of shard ", options_.shard.shard_id,
                                     " failed: ", closed.message()));
  }
  return absl::OkStatus();
}

}  // namespace quarry::shard
