#include "router/cluster.h"

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "services/runtime/log.h"

namespace quarry::router {
namespace {

constexpr std::chrono::seconds kRepairCallTimeout{10};

}  // namespace

Cluster::Cluster(const Topology& topology, const ClusterOptions& options)
    : options_(options), shard_count_(topology.shards.size()) {
  for (uint32_t i = 0; i < shard_count_; ++i) {
    ShardGroup group;
    group.latency = std::make_shared<LatencyWindow>();
    for (const std::string& address : topology.shards[i].replicas) {
      group.replicas.push_back(MakeReplica(i, address));
    }
    shards_.push_back(std::move(group));
  }
}

std::shared_ptr<Replica> Cluster::MakeReplica(uint32_t shard, const std::string& address) const {
  ReplicaOptions options = options_.replica;
  if (RouterMetrics* metrics = options_.metrics) {
    options.on_ejected = [metrics, shard] { metrics->ReplicaEjected(shard); };
  }
  return std::make_shared<Replica>(address, options);
}

Cluster::~Cluster() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (background_.joinable()) background_.join();
}

void Cluster::Start() {
  background_ = std::thread([this] { BackgroundLoop(); });
}

absl::Status Cluster::Reload(const Topology& topology) {
  if (topology.shards.size() != shard_count_) {
    return absl::FailedPreconditionError(
        absl::StrCat("the new topology has ", topology.shards.size(),
                     " shards and the cluster has ", shard_count_,
                     "; changing the number of shards needs a resharding, which the router "
                     "does not do"));
  }
  std::lock_guard lock(mu_);
  for (uint32_t i = 0; i < shard_count_; ++i) {
    absl::flat_hash_map<std::string, std::shared_ptr<Replica>> existing;
    for (std::shared_ptr<Replica>& replica : shards_[i].replicas) {
      existing[replica->address()] = std::move(replica);
    }
    std::vector<std::shared_ptr<Replica>> replicas;
    for (const std::string& address : topology.shards[i].replicas) {
      auto it = existing.find(address);
      replicas.push_back(it != existing.end() ? it->second : MakeReplica(i, address));
    }
    shards_[i].replicas = std::move(replicas);
  }
  wake_.notify_all();
  return absl::OkStatus();
}

ShardGroup Cluster::Shard(uint32_t shard) const {
  std::lock_guard lock(mu_);
  return shards_[shard];
}

std::optional<shard::RequestLimits> Cluster::limits() const {
  std::lock_guard lock(mu_);
  return limits_;
}

uint32_t Cluster::ReachableShards() const {
  std::lock_guard lock(mu_);
  uint32_t reachable = 0;
  for (const ShardGroup& group : shards_) {
    bool any = false;
    for (const std::shared_ptr<Replica>& replica : group.replicas) any |= replica->healthy();
    reachable += any ? 1 : 0;
  }
  return reachable;
}

void Cluster::BackgroundLoop() {
  while (true) {
    CheckHealth();
    LearnLimits();
    RepairStaleReplicas();
    std::unique_lock lock(mu_);
    if (wake_.wait_for(lock, options_.health_interval, [this] { return stopping_; })) return;
  }
}

void Cluster::CheckHealth() {
  std::vector<std::shared_ptr<Replica>> replicas;
  {
    std::lock_guard lock(mu_);
    for (const ShardGroup& group : shards_) {
      replicas.insert(replicas.end(), group.replicas.begin(), group.replicas.end());
    }
  }
  // All checks run at once so one dead replica does not delay the others. They go through a
  // completion queue of this round's own rather than the callback API, whose polling threads
  // would otherwise stay in the process and wake on every search it serves.
  struct Check {
    Replica* replica = nullptr;
    grpc::ClientContext context;
    grpc::health::v1::HealthCheckRequest request;
    grpc::health::v1::HealthCheckResponse response;
    grpc::Status status;
    std::unique_ptr<grpc::ClientAsyncResponseReader<grpc::health::v1::HealthCheckResponse>> reader;
  };
  grpc::CompletionQueue queue;
  std::vector<std::unique_ptr<Check>> checks(replicas.size());
  for (size_t i = 0; i < replicas.size(); ++i) {
    Check* check = (checks[i] = std::make_unique<Check>()).get();
    check->replica = replicas[i].get();
    check->context.set_deadline(std::chrono::system_clock::now() + options_.health_timeout);
    check->reader =
        check->replica->health_stub().PrepareAsyncCheck(&check->context, check->request, &queue);
    check->reader->StartCall();
    check->reader->Finish(&check->response, &check->status, check);
  }
  for (size_t answered = 0; answered < checks.size(); ++answered) {
    void* tag;
    bool ok;
    if (!queue.Next(&tag, &ok)) break;
    Check* check = static_cast<Check*>(tag);
    check->replica->SetServing(check->status.ok() &&
                               check->response.status() ==
                                   grpc::health::v1::HealthCheckResponse::SERVING);
  }
  queue.Shutdown();
  void* tag;
  bool ok;
  while (queue.Next(&tag, &ok)) {
  }
}

void Cluster::LearnLimits() {
  {
    std::lock_guard lock(mu_);
    if (limits_) return;
  }
  for (uint32_t i = 0; i < shard_count_; ++i) {
    for (const std::shared_ptr<Replica>& replica : Shard(i).replicas) {
      if (!replica->healthy()) continue;
      grpc::ClientContext context;
      context.set_deadline(std::chrono::system_clock::now() + options_.health_timeout);
      v1::StatsResponse stats;
      if (!replica->stub().Stats(&context, v1::StatsRequest(), &stats).ok()) continue;
      absl::StatusOr<shard::Metric> metric = shard::ParseMetric(stats.metric());
      if (!metric.ok()) continue;
      shard::RequestLimits limits;
      limits.dimension = stats.dimension();
      limits.metric = *metric;
      limits.max_k = stats.max_k() > 0 ? stats.max_k() : limits.max_k;
      runtime::Logger("router")->info(
          "shards use dimension {}, metric {}, k up to {} (learned from {})", limits.dimension,
          stats.metric(), limits.max_k, replica->address());
      std::lock_guard lock(mu_);
      limits_ = limits;
      return;
    }
  }
}

void Cluster::RepairStaleReplicas() {
  for (uint32_t i = 0; i < shard_count_; ++i) {
    for (const std::shared_ptr<Replica>& replica : Shard(i).replicas) {
      if (!replica->stale() || !replica->healthy()) continue;
      while (std::shared_ptr<const ShardWrite> write = replica->NextMissedWrite()) {
        grpc::ClientContext context;
        context.set_deadline(std::chrono::system_clock::now() + kRepairCallTimeout);
        grpc::Status status;
        if (write->upsert) {
          v1::UpsertResponse response;
          status = replica->stub().Upsert(&context, *write->upsert, &response);
        } else {
          v1::DeleteResponse response;
          status = replica->stub().Delete(&context, *write->remove, &response);
        }
        // A write the replica rejects as invalid would be rejected forever; it was valid
        // when first sent, so only transient failures are retried.
        if (!status.ok() && status.error_code() != grpc::StatusCode::INVALID_ARGUMENT) break;
        replica->WriteRepaired();
      }
    }
  }
}

}  // namespace quarry::router
