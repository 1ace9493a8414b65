#include "services/cli/status_command.h"

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "absl/strings/str_format.h"
#include "quarry/v1/router.grpc.pb.h"
#include "services/cli/security_flags.h"

namespace quarry::cli {
namespace {

struct StatusFlags {
  std::string router = "127.0.0.1:7300";
  bool json = false;
  double timeout_s = 10;
  runtime::TlsFiles tls;
};

// "12.3 MiB": bytes for people.
std::string Bytes(uint64_t bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double value = static_cast<double>(bytes);
  int unit = 0;
  while (value >= 1024 && unit < 4) {
    value /= 1024;
    ++unit;
  }
  return unit == 0 ? absl::StrFormat("%d B", bytes)
                   : absl::StrFormat("%.1f %s", value, units[unit]);
}

std::string Health(const v1::ReplicaStatus& replica) {
  if (replica.ejected()) return "ejected";
  if (replica.stale()) return "stale";
  return replica.healthy() ? "healthy" : "down";
}

nlohmann::json ReplicaJson(const v1::ReplicaStatus& replica) {
  nlohmann::json json = {{"address", replica.address()},
                         {"health", Health(replica)},
                         {"healthy", replica.healthy()},
                         {"ejected", replica.ejected()},
                         {"stale", replica.stale()},
                         {"pending_writes", replica.pending_writes()},
                         {"outstanding", replica.outstanding()},
                         {"latency_p50_ms", replica.latency_p50_ms()},
                         {"latency_p99_ms", replica.latency_p99_ms()},
                         {"error", replica.error()}};
  if (replica.has_stats()) {
    const v1::StatsResponse& stats = replica.stats();
    json["documents"] = stats.documents();
    json["chunks"] = stats.chunks();
    json["index_spec"] = stats.index_spec();
    json["index_type"] = stats.index_type();
    json["trained"] = stats.trained();
    json["vectors_indexed"] = stats.vectors_indexed();
    json["vectors_buffered"] = stats.vectors_buffered();
    json["tombstones"] = stats.tombstones();
    json["index_memory_bytes"] = stats.index_memory_bytes();
    json["disk_bytes"] = stats.disk_bytes();
  }
  return json;
}

void PrintJson(const v1::GetStatusResponse& status) {
  nlohmann::json shards = nlohmann::json::array();
  for (const v1::ShardStatus& shard : status.shards()) {
    nlohmann::json replicas = nlohmann::json::array();
    for (const v1::ReplicaStatus& replica : shard.replicas()) {
      replicas.push_back(ReplicaJson(replica));
    }
    shards.push_back({{"shard", shard.shard()},
                      {"hedge_delay_ms", shard.hedge_delay_ms()},
                      {"replicas", replicas}});
  }
  const nlohmann::json out = {
      {"dimension", status.dimension()}, {"metric", status.metric()}, {"shards", shards}};
  std::printf("%s\n", out.dump(2).c_str());
}

void PrintTable(const v1::GetStatusResponse& status) {
  int healthy_shards = 0;
  for (const v1::ShardStatus& shard : status.shards()) {
    for (const v1::ReplicaStatus& replica : shard.replicas()) {
      if (replica.healthy() && !replica.stale()) {
        ++healthy_shards;
        break;
      }
    }
  }
  std::printf("%d shards (%d serving), dimension %u, metric %s\n", status.shards_size(),
              healthy_shards, status.dimension(), status.metric().c_str());
  std::printf("%-5s %-22s %-8s %10s %10s %-14s %10s %10s %8s\n", "SHARD", "REPLICA", "HEALTH",
              "DOCUMENTS", "CHUNKS", "INDEX", "INDEX MEM", "DISK", "P99 MS");
  for (const v1::ShardStatus& shard : status.shards()) {
    for (const v1::ReplicaStatus& replica : shard.replicas()) {
      const v1::StatsResponse& stats = replica.stats();
      const bool known = replica.has_stats();
      std::printf("%-5u %-22s %-8s %10s %10s %-14s %10s %10s %8.2f\n", shard.shard(),
                  replica.address().c_str(), Health(replica).c_str(),
                  known ? std::to_string(stats.documents()).c_str() : "-",
                  known ? std::to_string(stats.chunks()).c_str() : "-",
                  known ? stats.index_type().c_str() : "-",
                  known ? Bytes(stats.index_memory_bytes()).c_str() : "-",
                  known ? Bytes(stats.disk_bytes()).c_str() : "-", replica.latency_p99_ms());
      if (!replica.error().empty() && !replica.healthy()) {
        std::printf("      last error: %s\n", replica.error().c_str());
      }
    }
  }
}

int RunStatus(const StatusFlags& flags) {
  absl::StatusOr<std::shared_ptr<grpc::Channel>> channel = ClientChannel(flags.router, flags.tls);
  if (!channel.ok()) {
    std::fprintf(stderr, "quarry status: %s\n", std::string(channel.status().message()).c_str());
    return 2;
  }
  auto router = v1::Router::NewStub(*channel);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() +
                       std::chrono::milliseconds(static_cast<int64_t>(flags.timeout_s * 1000)));
  AttachApiKeyFromEnvironment(context);
  v1::GetStatusResponse status;
  grpc::Status result = router->GetStatus(&context, v1::GetStatusRequest(), &status);
  if (!result.ok()) {
    std::fprintf(stderr, "quarry status: %s (router %s)\n", result.error_message().c_str(),
                 flags.router.c_str());
    return 1;
  }
  if (flags.json) {
    PrintJson(status);
  } else {
    PrintTable(status);
  }
  return 0;
}

}  // namespace

void AddStatusCommand(CLI::App& app, std::function<int()>* run) {
  auto flags = std::make_shared<StatusFlags>();
  CLI::App* command = app.add_subcommand(
      "status", "Show the shards and replicas of a cluster: health, counts, index, memory");
  command->add_option("--router", flags->router, "Router address (host:port)")
      ->capture_default_str();
  command->add_flag("--json", flags->json, "Print JSON for scripts");
  command->add_option("--timeout", flags->timeout_s, "Seconds to wait for the router")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  AddTlsOptions(command, &flags->tls, TlsUse::kClient);
  command->callback([flags, run] { *run = [flags] { return RunStatus(*flags); }; });
}

}  // namespace quarry::cli
