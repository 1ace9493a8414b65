#include "services/cli/local_command.h"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "router/router_server.h"
#include "services/answer/answer_server.h"
#include "services/cli/answer_command.h"
#include "services/cli/config_file.h"
#include "services/cli/embedder_flags.h"
#include "services/cli/security_flags.h"
#include "services/runtime/log.h"
#include "services/runtime/server.h"
#include "shard/shard_server.h"

namespace quarry::cli {
namespace {

namespace fs = std::filesystem;

struct LocalFlags {
  int shards = 3;
  int replicas = 1;
  std::string data_dir = "quarry-data";
  std::string host = "127.0.0.1";
  int base_port = 7300;
  int dimension = 384;
  std::string index_spec = "Flat";
  std::string metric = "ip";
  EmbedderFlags embedder;
  std::string llm_url;    // or QUARRY_LLM_URL; none: extractive answers
  std::string llm_model;  // or QUARRY_LLM_MODEL
  double drain_s = 10;
  runtime::TlsFiles tls;
  std::string api_keys_file;
  std::string log_level = "info";
  bool log_json = false;
};

// The contract ports: the router on P, the answer service on P+1, shard replicas from P+10 in
// shard-major order.
int RouterPort(const LocalFlags& flags) { return flags.base_port; }
int AnswerPort(const LocalFlags& flags) { return flags.base_port + 1; }
int ShardPort(const LocalFlags& flags, int shard, int replica) {
  return flags.base_port + 10 + shard * flags.replicas + replica;
}

std::string Address(const LocalFlags& flags, int port) {
  return absl::StrCat(flags.host, ":", port);
}

std::string ReplicaDir(const LocalFlags& flags, int shard, int replica) {
  return absl::StrCat(flags.data_dir, "/shard-", shard, "-replica-", replica);
}

// Placement hashes documents over the shards, so a data directory made for one shard count
// cannot serve another: its documents would be looked for on the wrong shards.
absl::Status CheckLayout(const LocalFlags& flags) {
  std::error_code error;
  fs::create_directories(flags.data_dir, error);
  if (error) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot create the data directory ", flags.data_dir, ": ", error.message()));
  }
  const std::regex replica_dir(R"(shard-(\d+)-replica-(\d+))");
  int shards_found = 0;
  int replicas_found = 0;
  for (const fs::directory_entry& entry : fs::directory_iterator(flags.data_dir, error)) {
    std::smatch match;
    const std::string name = entry.path().filename().string();
    if (!entry.is_directory() || !std::regex_match(name, match, replica_dir)) continue;
    shards_found = std::max(shards_found, std::stoi(match[1]) + 1);
    replicas_found = std::max(replicas_found, std::stoi(match[2]) + 1);
  }
  if (shards_found != 0 && shards_found != flags.shards) {
    return absl::FailedPreconditionError(absl::StrCat(
        flags.data_dir, " holds a cluster of ", shards_found, " shards; start it with --shards ",
        shards_found, ", or use another --data directory for ", flags.shards, " shards"));
  }
  if (replicas_found > flags.replicas) {
    runtime::Logger("local")->warn(
        "{} holds {} replicas per shard; only {} are started (--replicas)", flags.data_dir,
        replicas_found, flags.replicas);
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> WriteTopology(const LocalFlags& flags) {
  const std::string path = flags.data_dir + "/topology.yaml";
  std::ofstream out(path, std::ios::trunc);
  out << "# Written by quarry local on every start.\nshards:\n";
  for (int s = 0; s < flags.shards; ++s) {
    out << "  - replicas: [";
    for (int r = 0; r < flags.replicas; ++r) {
      out << (r ? ", " : "") << Address(flags, ShardPort(flags, s, r));
    }
    out << "]\n";
  }
  out.close();
  if (!out) return absl::FailedPreconditionError(absl::StrCat("cannot write ", path));
  return path;
}

// The parts of the cluster in start order; stopped in reverse.
struct LocalCluster {
  std::vector<std::unique_ptr<shard::ShardServer>> shards;
  std::unique_ptr<router::RouterServer> router;
  std::unique_ptr<answer::AnswerServer> answer;

  bool ready() const {
    for (const auto& shard : shards) {
      if (!shard->ready()) return false;
    }
    return router != nullptr && router->ready();
  }

  std::chrono::milliseconds drain{10000};

  // Stops the answer service, the router, then the shards; false when some part did not stop
  // cleanly.
  bool Stop() {
    bool clean = true;
    if (answer) answer->Shutdown(drain);
    if (router) router->Stop();
    for (auto& shard : shards) {
      absl::Status stopped = shard->Stop();
      if (!stopped.ok()) {
        runtime::Logger("local")->error("{}", stopped.message());
        clean = false;
      }
    }
    return clean;
  }
};

// Every part serves with the TLS material of `answer_options`, and the router checks its keys.
absl::Status StartCluster(const LocalFlags& flags, const router::EmbedderFactory& embedder,
                          const answer::AnswerServerOptions& answer_options,
                          LocalCluster* cluster) {
  absl::StatusOr<shard::Metric> metric = shard::ParseMetric(flags.metric);
  if (!metric.ok()) return metric.status();
  const auto drain = std::chrono::milliseconds(static_cast<int64_t>(flags.drain_s * 1000));
  cluster->drain = drain;

  for (int s = 0; s < flags.shards; ++s) {
    for (int r = 0; r < flags.replicas; ++r) {
      shard::ShardServerOptions options;
      options.listen = Address(flags, ShardPort(flags, s, r));
      options.drain = drain;
      options.shard.data_dir = ReplicaDir(flags, s, r);
      options.shard.shard_id = s;
      options.shard.dimension = flags.dimension;
      options.shard.metric = *metric;
      options.shard.index_spec = flags.index_spec;
      options.tls = answer_options.tls;
      absl::StatusOr<std::unique_ptr<shard::ShardServer>> started =
          shard::ShardServer::Start(options);
      if (!started.ok()) return started.status();
      cluster->shards.push_back(*std::move(started));
    }
  }

  absl::StatusOr<std::string> topology_path = WriteTopology(flags);
  if (!topology_path.ok()) return topology_path.status();
  absl::StatusOr<router::Topology> topology = router::LoadTopology(*topology_path);
  if (!topology.ok()) return topology.status();
  router::RouterServerOptions options;
  options.listen = Address(flags, RouterPort(flags));
  options.topology = *std::move(topology);
  options.embedder = embedder;
  options.drain = drain;
  options.tls = answer_options.tls;
  options.router.api_keys = answer_options.service.api_keys;
  absl::StatusOr<std::unique_ptr<router::RouterServer>> router =
      router::RouterServer::Start(std::move(options));
  if (!router.ok()) return router.status();
  cluster->router = *std::move(router);

  absl::StatusOr<std::unique_ptr<answer::AnswerServer>> answer =
      answer::AnswerServer::Start(answer_options);
  if (!answer.ok()) return answer.status();
  cluster->answer = *std::move(answer);
  return absl::OkStatus();
}

void PrintAddresses(const LocalFlags& flags, const std::string& llm) {
  const std::string router = Address(flags, RouterPort(flags));
  const std::string answer = Address(flags, AnswerPort(flags));
  const bool default_ports = flags.base_port == 7300;
  const std::string flag = default_ports ? "" : " --router " + router;
  const std::string answer_flag = default_ports ? "" : " --answer " + answer;
  std::printf("quarry local: %d shard(s) x %d replica(s), data in %s\n", flags.shards,
              flags.replicas, flags.data_dir.c_str());
  std::printf("  router   %s\n", router.c_str());
  std::printf("  answer   %s  (%s)\n", answer.c_str(), llm.c_str());
  for (int s = 0; s < flags.shards; ++s) {
    for (int r = 0; r < flags.replicas; ++r) {
      std::printf("  shard %d  %s  (replica %d)\n", s,
                  Address(flags, ShardPort(flags, s, r)).c_str(), r);
    }
  }
  std::printf("  metrics  http://%s/metrics and the same on every port above + 1000\n",
              Address(flags, RouterPort(flags) + 1000).c_str());
  std::printf("Query it:\n");
  std::printf("  quarry ingest /usr/share/doc/postgresql-doc-15/html%s\n", flag.c_str());
  std::printf("  quarry search \"how do I create a partial index\"%s\n", flag.c_str());
  std::printf("  quarry ask \"what does VACUUM FULL lock\"%s\n", answer_flag.c_str());
  std::printf("  quarry status%s\n", flag.c_str());
  std::printf("Stop it with Ctrl-C, or: kill -TERM %d\n", static_cast<int>(getpid()));
  std::fflush(stdout);
}

int RunLocal(const LocalFlags& flags, const std::string& configuration) {
  runtime::BlockTerminationSignals();
  absl::Status logging = runtime::ConfigureLogging(flags.log_level, flags.log_json);
  auto log = runtime::Logger("local");
  if (!logging.ok()) {
    log->error("{}", logging.message());
    return 2;
  }
  absl::StatusOr<router::EmbedderFactory> embedder = MakeEmbedderFactory(flags.embedder);
  if (!embedder.ok()) {
    log->error("{}", embedder.status().message());
    return 2;
  }
  answer::AnswerServerOptions answer_options;
  answer_options.listen = Address(flags, AnswerPort(flags));
  answer_options.router = Address(flags, RouterPort(flags));
  answer_options.llm_url = flags.llm_url;
  answer_options.llm_model = flags.llm_model;
  if (absl::Status llm = ApplyLlmEnvironment(answer_options); !llm.ok()) {
    log->error("{}", llm.message());
    return 2;
  }
  absl::StatusOr<runtime::TlsConfig> tls =
      runtime::TlsConfig::Load(flags.tls, runtime::TlsRole::kService);
  if (!tls.ok()) {
    log->error("{}", tls.status().message());
    return 2;
  }
  answer_options.tls = *std::move(tls);
  absl::StatusOr<std::shared_ptr<const runtime::ApiKeyTable>> api_keys =
      LoadApiKeys(flags.api_keys_file);
  if (!api_keys.ok()) {
    log->error("{}", api_keys.status().message());
    return 2;
  }
  answer_options.service.api_keys = *std::move(api_keys);
  const std::string llm = answer_options.llm_url.empty()
                              ? "extractive answers, no LLM"
                              : answer_options.llm_model + " at " + answer_options.llm_url;
  if (absl::Status layout = CheckLayout(flags); !layout.ok()) {
    log->error("{}", layout.message());
    return 2;
  }
  log->info(
      "quarry {} local cluster starting: shards={} replicas={} data={} base_port={} dim={} "
      "index='{}' metric={} embedder={} llm={} llm_api_key={} transport={} api_keys={}",
      runtime::Version(), flags.shards, flags.replicas, flags.data_dir, flags.base_port,
      flags.dimension, flags.index_spec, flags.metric, DescribeEmbedder(flags.embedder), llm,
      answer_options.llm_api_key.empty() ? "unset" : "set", answer_options.tls.Describe(),
      answer_options.service.api_keys ? flags.api_keys_file : std::string("off"));
  log->info("effective configuration: {}", configuration);

  LocalCluster cluster;
  if (absl::Status started = StartCluster(flags, *embedder, answer_options, &cluster);
      !started.ok()) {
    log->error("{}", started.message());
    cluster.Stop();
    return 1;
  }

  // Prints the addresses once every part serves; a signal first stops the wait.
  std::atomic<bool> stopping{false};
  std::thread announcer([&] {
    while (!stopping && !cluster.ready()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    if (stopping) return;
    log->info("cluster serving");
    PrintAddresses(flags, llm);
  });

  int signal_number;
  while ((signal_number = runtime::WaitForSignal()) == SIGHUP) {
  }
  stopping = true;
  announcer.join();
  log->info("received signal {}; draining", signal_number);
  if (!cluster.Stop()) return 1;
  log->info("stopped cleanly");
  return 0;
}

}  // namespace

void AddLocalCommand(CLI::App& app, std::function<int()>* run) {
  auto flags = std::make_shared<LocalFlags>();
  CLI::App* command = app.add_subcommand(
      "local", "Run a whole cluster (router, shards, answer service) on loopback in one process");
  command->add_option("--shards", flags->shards, "Number of shards")
      ->capture_default_str()
      ->check(CLI::Range(1, 64));
  command->add_option("--replicas", flags->replicas, "Replicas of every shard")
      ->capture_default_str()
      ->check(CLI::Range(1, 8));
  command
      ->add_option("--data", flags->data_dir,
                   "Data directory; one folder per shard replica, kept across restarts")
      ->capture_default_str();
  command
      ->add_option("--base-port", flags->base_port,
                   "Router on this port, answer service on +1, shard replicas from +10")
      ->capture_default_str()
      ->check(CLI::Range(1, 64000));
  command->add_option("--dim", flags->dimension, "Vector dimension of the shards")
      ->capture_default_str()
      ->check(CLI::Range(1, 65536));
  command
      ->add_option("--index", flags->index_spec,
                   "FAISS index_factory spec of every shard: Flat, IVF1024,Flat, HNSW32, ...")
      ->capture_default_str();
  command->add_option("--metric", flags->metric, "ip (cosine) or l2")
      ->capture_default_str()
      ->check(CLI::IsMember({"ip", "l2"}));
  AddEmbedderOptions(command, &flags->embedder);
  command->add_option("--llm-url", flags->llm_url,
                      "OpenAI-compatible API base for answers, e.g. http://127.0.0.1:11434/v1 "
                      "(env QUARRY_LLM_URL); none: answers are extractive");
  command->add_option("--llm-model", flags->llm_model,
                      "Model the answer service asks (env QUARRY_LLM_MODEL); the API key comes "
                      "from QUARRY_LLM_API_KEY");
  command
      ->add_option("--drain-seconds", flags->drain_s,
                   "Grace period for calls in flight on SIGTERM or Ctrl-C")
      ->capture_default_str();
  AddTlsOptions(command, &flags->tls, TlsUse::kServerAndClient);
  AddApiKeysOption(command, &flags->api_keys_file);
  command->add_option("--log-level", flags->log_level, "trace, debug, info, warn or error")
      ->capture_default_str();
  command->add_flag("--log-json", flags->log_json, "Log one JSON object per line");
  command->callback([flags, run, command] {
    *run = [flags, configuration = EffectiveConfiguration(*command)] {
      return RunLocal(*flags, configuration);
    };
  });
}

}  // namespace quarry::cli
