#include "router/router_server.h"

#include <utility>

#include "services/runtime/log.h"

namespace quarry::router {

absl::StatusOr<std::unique_ptr<RouterServer>> RouterServer::Start(RouterServerOptions options) {
  options.cluster.replica.tls = options.tls;
  std::unique_ptr<RouterServer> server(new RouterServer(std::move(options)));
  runtime::GrpcServerOptions grpc_options;
  grpc_options.listen = server->options_.listen;
  grpc_options.max_receive_message_bytes = server->options_.max_message_bytes;
  grpc_options.max_send_message_bytes = server->options_.max_message_bytes;
  grpc_options.credentials = server->options_.tls.ServerCredentials();
  absl::StatusOr<runtime::RunningServer> running =
      runtime::StartGrpcServer(grpc_options, {&server->service_});
  if (!running.ok()) return running.status();
  server->server_ = *std::move(running);
  server->port_ = server->server_.port;
  server->cluster_.Start();
  runtime::Logger("router")->info("router listening on port {}", server->port_);
  server->readiness_ = std::thread([raw = server.get()] { raw->AwaitReadiness(); });
  return server;
}

RouterServer::RouterServer(RouterServerOptions options)
    : options_(std::move(options)),
      cluster_(options_.topology, options_.cluster),
      service_(&cluster_, options_.embedder, options_.router) {}

RouterServer::~RouterServer() {
  if (!stopped_) Stop();
}

void RouterServer::AwaitReadiness() {
  // TODO(#7): report degraded service when a shard has no healthy replica.
  while (!stopping_ && !cluster_.limits()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  if (stopping_) return;
  runtime::SetServing(*server_.server, true);
  ready_ = true;
  runtime::Logger("router")->info("router serving");
}

void RouterServer::Stop() {
  stopped_ = true;
  stopping_ = true;
  if (readiness_.joinable()) readiness_.join();
  ready_ = false;
  if (server_.server) runtime::DrainAndShutdown(*server_.server, service_.gate(), options_.drain);
}

}  // namespace quarry::router
