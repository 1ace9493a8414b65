#include "services/cli/backup_command.h"

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "absl/status/status.h"
#include "quarry/v1/router.grpc.pb.h"
#include "services/cli/security_flags.h"

namespace quarry::cli {
namespace {

struct BackupFlags {
  std::string to;
  std::string router = "127.0.0.1:7300";
  double timeout_s = 3600;
  bool json = false;
  runtime::TlsFiles tls;
};

void PrintJson(const v1::ClusterBackupResponse& response) {
  const v1::ClusterBackupManifest& manifest = response.manifest();
  nlohmann::json shards = nlohmann::json::array();
  for (const v1::ShardBackupEntry& entry : manifest.shard_backups()) {
    shards.push_back({{"shard", entry.shard()},
                      {"replica", entry.replica()},
                      {"directory", entry.directory()},
                      {"documents", entry.manifest().documents()},
                      {"chunks", entry.manifest().chunks()},
                      {"sequence", entry.manifest().sequence()}});
  }
  const nlohmann::json out = {
      {"directory", response.directory()},   {"shards", shards},
      {"dimension", manifest.dimension()},   {"metric", manifest.metric()},
      {"index_spec", manifest.index_spec()}, {"started_unix_ms", manifest.started_unix_ms()},
      {"seconds", response.seconds()}};
  std::printf("%s\n", out.dump(2).c_str());
}

void PrintSummary(const v1::ClusterBackupResponse& response) {
  const v1::ClusterBackupManifest& manifest = response.manifest();
  uint64_t documents = 0;
  uint64_t chunks = 0;
  for (const v1::ShardBackupEntry& entry : manifest.shard_backups()) {
    documents += entry.manifest().documents();
    chunks += entry.manifest().chunks();
    std::printf("  shard %u: %llu documents, %llu chunks at sequence %llu, from %s\n",
                entry.shard(), static_cast<unsigned long long>(entry.manifest().documents()),
                static_cast<unsigned long long>(entry.manifest().chunks()),
                static_cast<unsigned long long>(entry.manifest().sequence()),
                entry.replica().c_str());
  }
  std::printf("backed up %u shards (%llu documents, %llu chunks) into %s in %.2fs\n",
              manifest.shards(), static_cast<unsigned long long>(documents),
              static_cast<unsigned long long>(chunks), response.directory().c_str(),
              response.seconds());
  std::printf("restore it with: quarry restore --from %s --data NEW_DATA_DIR\n",
              response.directory().c_str());
}

int RunBackup(const BackupFlags& flags) {
  absl::StatusOr<std::shared_ptr<grpc::Channel>> channel = ClientChannel(flags.router, flags.tls);
  if (!channel.ok()) {
    std::fprintf(stderr, "quarry backup: %s\n", std::string(channel.status().message()).c_str());
    return 2;
  }
  auto router = v1::Router::NewStub(*channel);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() +
                       std::chrono::milliseconds(static_cast<int64_t>(flags.timeout_s * 1000)));
  AttachApiKeyFromEnvironment(context);
  v1::ClusterBackupRequest request;
  request.set_directory(flags.to);
  v1::ClusterBackupResponse response;
  grpc::Status status = router->Backup(&context, request, &response);
  if (!status.ok()) {
    // The code tells an operator whether to fix the request or retry later.
    std::fprintf(
        stderr, "quarry backup: %s: %s (router %s)\n",
        absl::StatusCodeToString(static_cast<absl::StatusCode>(status.error_code())).c_str(),
        status.error_message().c_str(), flags.router.c_str());
    return 1;
  }
  if (flags.json) {
    PrintJson(response);
  } else {
    PrintSummary(response);
  }
  return 0;
}

}  // namespace

void AddBackupCommand(CLI::App& app, std::function<int()>* run) {
  auto flags = std::make_shared<BackupFlags>();
  CLI::App* command = app.add_subcommand(
      "backup",
      "Back up a running cluster consistently, through its router, while it takes writes");
  command->footer(
      "Every shard writes its database and a matching index snapshot into DIR/shard-N; "
      "DIR/cluster-backup.json is written last, once every shard succeeded. Every write "
      "acknowledged before the command began is in the backup. Restore it with quarry restore.");
  command
      ->add_option("--to", flags->to,
                   "Absolute path of a new or empty directory, on a filesystem the router and "
                   "every shard see at that path (one machine, or shared storage)")
      ->required();
  command->add_option("--router", flags->router, "Router address (host:port)")
      ->capture_default_str();
  command
      ->add_option("--timeout", flags->timeout_s,
                   "Seconds to wait for every shard to finish before giving up")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  command->add_flag("--json", flags->json, "Print what was backed up as JSON");
  AddTlsOptions(command, &flags->tls, TlsUse::kClient);
  command->callback([flags, run] { *run = [flags] { return RunBackup(*flags); }; });
}

}  // namespace quarry::cli
