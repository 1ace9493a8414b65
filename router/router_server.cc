#include "router/router_server.h"

#include <algorithm>
#include <utility>

#include "router/completion_tag.h"
#include "router/search_call.h"
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
  grpc_options.metrics = &server->metrics_;
  grpc_options.health_services = {v1::Router::service_full_name()};
  grpc_options.completion_queues = std::max(1, server->options_.event_loops);
  absl::StatusOr<runtime::RunningServer> running =
      runtime::StartGrpcServer(grpc_options, {&server->service_});
  if (!running.ok()) return running.status();
  server->server_ = *std::move(running);
  server->port_ = server->server_.port;
  server->service_.UseWriteQueue(server->server_.queues.front().get());
  for (const auto& queue : server->server_.queues) {
    server->event_loops_.emplace_back([raw = server.get(), queue = queue.get()] {
      // A few requests wait at once, so that a burst does not queue for the next to be asked.
      constexpr int kWaitingSearches = 8;
      for (int i = 0; i < kWaitingSearches; ++i) SearchCall::Await(&raw->service_, queue);
      RunCompletionLoop(*queue);
    });
  }

  absl::Status metrics = server->metrics_.ServeBesideGrpc(server->options_.metrics_listen,
                                                          server->options_.listen, server->port_);
  if (!metrics.ok()) return metrics;
  server->metrics_.AddScraped([raw = server.get()] {
    const uint32_t total = raw->cluster_.shard_count();
    const uint32_t reachable = raw->cluster_.ReachableShards();
    const char* help = "Shards with at least one healthy replica, and shards with none";
    return std::vector<runtime::ScrapedValue>{{"quarry_router_shards",
                                               help,
                                               prometheus::MetricType::Gauge,
                                               {{"state", "reachable"}},
                                               static_cast<double>(reachable)},
                                              {"quarry_router_shards",
                                               help,
                                               prometheus::MetricType::Gauge,
                                               {{"state", "unreachable"}},
                                               static_cast<double>(total - reachable)}};
  });
  server->cluster_.Start();
  runtime::Logger("router")->info("router listening on port {}", server->port_);
  server->readiness_ = std::thread([raw = server.get()] { raw->AwaitReadiness(); });
  return server;
}

namespace {

ClusterOptions WithMetrics(ClusterOptions options, RouterMetrics* metrics) {
  options.metrics = metrics;
  return options;
}

RouterOptions WithMetrics(RouterOptions options, RouterMetrics* metrics) {
  options.metrics = metrics;
  return options;
}

}  // namespace

RouterServer::RouterServer(RouterServerOptions options)
    : options_(std::move(options)),
      router_metrics_(metrics_.registry(), options_.topology.shards.size()),
      cluster_(options_.topology, WithMetrics(options_.cluster, &router_metrics_)),
      service_(&cluster_, options_.embedder, WithMetrics(options_.router, &router_metrics_)) {}

RouterServer::~RouterServer() {
  if (!stopped_) Stop();
  metrics_.Stop();
}

void RouterServer::AwaitReadiness() {
  constexpr auto kPoll = std::chrono::milliseconds(20);
  while (!stopping_ && !cluster_.limits()) std::this_thread::sleep_for(kPoll);
  if (stopping_) return;
  runtime::SetServing(server_, true);
  ready_ = true;
  auto log = runtime::Logger("router");
  log->info("router serving");

  uint32_t reachable = cluster_.shard_count();
  while (!stopping_) {
    const uint32_t now = cluster_.ReachableShards();
    if (now != reachable) {
      if (now < cluster_.shard_count()) {
        log->warn(
            "degraded: {} of {} shards have no healthy replica; searches return partial "
            "results",
            cluster_.shard_count() - now, cluster_.shard_count());
      } else {
        log->info("every shard has a healthy replica again");
      }
      reachable = now;
    }
    std::this_thread::sleep_for(kPoll * 10);
  }
}

void RouterServer::Stop() {
  stopped_ = true;
  stopping_ = true;
  if (readiness_.joinable()) readiness_.join();
  ready_ = false;
  if (server_.server) runtime::DrainAndShutdown(server_, service_.gate(), options_.drain);
  // The server's shutdown cancelled the searches still running; they answer as soon as their
  // shard calls are back (a text query still being embedded takes until the embedding is done),
  // and those waiting for a request are handed back. The queues may close once none is left.
  while (!service_.search_calls().WaitIdle(std::chrono::seconds(1))) {
  }
  // Then the loops finish what is still out (late replicated writes, say) and end.
  for (const auto& queue : server_.queues) queue->Shutdown();
  for (std::thread& loop : event_loops_) loop.join();
}

}  // namespace quarry::router
