#include "router/router_service.h"

#include <map>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "router/cluster_backup.h"
#include "router/merge.h"
#include "router/placement.h"
#include "router/replicated_write.h"
#include "services/runtime/log.h"
#include "services/runtime/status.h"
#include "shard/request_validation.h"

namespace quarry::router {
namespace {

const grpc::Status kNoShardsYet(grpc::StatusCode::UNAVAILABLE,
                                "the router has not reached any shard yet; retry shortly");
const grpc::Status kStarting(grpc::StatusCode::UNAVAILABLE,
                             "the router is still starting; retry shortly");

// Used for a backup when the caller sets no deadline: copying a large shard takes a while.
constexpr std::chrono::hours kDefaultBackupTimeout{1};

grpc::Status Invalid(const std::string& message) {
  return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, message);
}

// Which documents of a request go to which shard, in request order.
std::map<uint32_t, std::vector<int>> GroupByShard(const v1::IngestRequest& request,
                                                  uint32_t shard_count) {
  std::map<uint32_t, std::vector<int>> groups;
  for (int i = 0; i < request.documents_size(); ++i) {
    const v1::Document& doc = request.documents(i).document();
    groups[PlaceDocument(doc.tenant(), doc.id(), shard_count)].push_back(i);
  }
  return groups;
}

void FillDocumentWrite(const ShardWriteResult& result, uint32_t shard, const std::string& doc_id,
                       v1::DocumentWrite* out) {
  out->set_doc_id(doc_id);
  out->set_shard(shard);
  for (const std::string& address : result.acked) out->add_acked_replicas(address);
  for (const std::string& address : result.failed) out->add_failed_replicas(address);
  out->set_ok(result.quorum);
  out->set_error(result.error);
}

// The status for a request whose writes did not all reach their quorum.
grpc::Status WriteFailure(const std::map<uint32_t, ShardWriteResult>& results) {
  std::vector<std::string> problems;
  grpc::StatusCode code = grpc::StatusCode::OK;
  for (const auto& [shard, result] : results) {
    if (result.quorum) continue;
    if (code == grpc::StatusCode::OK) code = result.code;
    problems.push_back(absl::StrCat("shard ", shard, ": ", result.error));
  }
  if (problems.empty()) return grpc::Status::OK;
  return grpc::Status(
      code, absl::StrCat("write not acknowledged by a quorum: ", absl::StrJoin(problems, "; ")));
}

}  // namespace

const grpc::Status& RouterService::Draining() {
  static const grpc::Status* const draining = new grpc::Status(
      grpc::StatusCode::UNAVAILABLE, "the router is shutting down; retry on another router");
  return *draining;
}

RouterService::RouterService(Cluster* cluster, EmbedderFactory embedder_factory,
                             const RouterOptions& options)
    : cluster_(cluster), embedder_factory_(std::move(embedder_factory)), options_(options) {}

absl::StatusOr<embed::Embedder*> RouterService::GetEmbedder(int dimension) {
  if (!embedder_factory_) {
    return absl::InvalidArgumentError("the router has no embedder; send vectors, not text");
  }
  std::lock_guard lock(embedder_mu_);
  if (embedder_ == nullptr) {
    absl::StatusOr<std::unique_ptr<embed::Embedder>> made = embedder_factory_(dimension);
    if (!made.ok()) return made.status();
    embedder_ = *std::move(made);
  }
  return embedder_.get();
}

grpc::Status RouterService::CheckAccess(const grpc::ServerContext& context,
                                        const std::vector<std::string>& tenants, bool admin) const {
  if (options_.api_keys == nullptr) return grpc::Status::OK;
  absl::StatusOr<runtime::ApiKeyGrant> grant = options_.api_keys->Authenticate(context);
  absl::Status allowed = grant.status();
  if (grant.ok() && admin) allowed = runtime::AuthorizeAdmin(*grant);
  for (size_t i = 0; allowed.ok() && i < tenants.size(); ++i) {
    allowed = runtime::AuthorizeTenant(*grant, tenants[i]);
  }
  if (!allowed.ok()) {
    runtime::Logger("router")->debug("refused a call from {}: {}", context.peer(),
                                     allowed.message());
  }
  return runtime::ToGrpcStatus(allowed);
}

std::chrono::system_clock::time_point RouterService::Deadline(
    const grpc::ServerContext& context) const {
  const auto now = std::chrono::system_clock::now();
  const auto caller = context.deadline();
  if (caller > now + std::chrono::hours(24 * 365)) return now + options_.default_timeout;
  return caller;
}

grpc::Status RouterService::Ingest(grpc::ServerContext* context, const v1::IngestRequest* request,
                                   v1::IngestResponse* response) {
  runtime::CallGate::Pass pass(gate_);
  if (!pass.admitted()) return Draining();
  std::vector<std::string> tenants;
  for (const v1::DocumentChunks& entry : request->documents()) {
    if (tenants.empty() || tenants.back() != entry.document().tenant()) {
      tenants.push_back(entry.document().tenant());
    }
  }
  if (grpc::Status allowed = CheckAccess(*context, tenants); !allowed.ok()) return allowed;
  std::optional<shard::RequestLimits> limits = cluster_->limits();
  if (!limits) return kNoShardsYet;
  grpc::CompletionQueue* const queue = write_queue_.load();
  if (queue == nullptr) return kStarting;

  // Chunks sent without vectors are embedded from their text.
  v1::UpsertRequest upsert;
  *upsert.mutable_documents() = request->documents();
  std::vector<std::string> texts;
  std::vector<v1::Chunk*> to_embed;
  for (int d = 0; d < upsert.documents_size(); ++d) {
    for (int c = 0; c < upsert.documents(d).chunks_size(); ++c) {
      v1::Chunk* chunk = upsert.mutable_documents(d)->mutable_chunks(c);
      if (!chunk->vector().empty()) continue;
      if (!embedder_factory_) {
        return Invalid(absl::StrCat("documents[", d, "].chunks[", c,
                                    "] has no vector and the router has no embedder"));
      }
      texts.push_back(chunk->text());
      to_embed.push_back(chunk);
    }
  }
  if (!texts.empty()) {
    absl::StatusOr<embed::Embedder*> embedder = GetEmbedder(limits->dimension);
    if (!embedder.ok()) return runtime::ToGrpcStatus(embedder.status());
    absl::StatusOr<std::vector<std::vector<float>>> vectors = (*embedder)->Embed(texts);
    if (!vectors.ok()) return runtime::ToGrpcStatus(vectors.status());
    for (size_t i = 0; i < to_embed.size(); ++i) {
      to_embed[i]->mutable_vector()->Assign((*vectors)[i].begin(), (*vectors)[i].end());
    }
  }
  absl::Status valid = shard::ValidateUpsert(upsert, *limits);
  if (!valid.ok()) return runtime::ToGrpcStatus(valid);
  if (options_.metrics != nullptr) {
    uint64_t bytes = 0;
    for (const v1::DocumentChunks& entry : upsert.documents()) {
      for (const v1::Chunk& chunk : entry.chunks()) bytes += chunk.text().size();
    }
    options_.metrics->Ingested(upsert.documents_size(), bytes);
  }

  // One write per shard, all shards at once.
  const auto deadline = Deadline(*context);
  std::map<uint32_t, std::vector<int>> groups = GroupByShard(*request, cluster_->shard_count());
  std::map<uint32_t, PendingShardWrite> pending;
  for (const auto& [shard, documents] : groups) {
    auto write = std::make_shared<ShardWrite>();
    write->upsert.emplace();
    for (int i : documents) *write->upsert->add_documents() = upsert.documents(i);
    pending.emplace(shard, StartShardWrite(cluster_->Shard(shard), std::move(write),
                                           request->write_quorum(), deadline, queue));
  }
  std::map<uint32_t, ShardWriteResult> results;
  for (auto& [shard, write] : pending) results[shard] = write.Wait();

  response->mutable_documents()->Reserve(request->documents_size());
  for (int i = 0; i < request->documents_size(); ++i) response->add_documents();
  for (const auto& [shard, documents] : groups) {
    for (int i : documents) {
      FillDocumentWrite(results[shard], shard, request->documents(i).document().id(),
                        response->mutable_documents(i));
      response->set_chunks(response->chunks() + request->documents(i).chunks_size());
    }
  }
  return WriteFailure(results);
}

grpc::Status RouterService::Delete(grpc::ServerContext* context,
                                   const v1::RouterDeleteRequest* request,
                                   v1::RouterDeleteResponse* response) {
  runtime::CallGate::Pass pass(gate_);
  if (!pass.admitted()) return Draining();
  if (grpc::Status allowed = CheckAccess(*context, {request->tenant()}); !allowed.ok()) {
    return allowed;
  }
  std::optional<shard::RequestLimits> limits = cluster_->limits();
  if (!limits) return kNoShardsYet;
  grpc::CompletionQueue* const queue = write_queue_.load();
  if (queue == nullptr) return kStarting;
  v1::DeleteRequest all;
  all.set_tenant(request->tenant());
  *all.mutable_doc_ids() = request->doc_ids();
  absl::Status valid = shard::ValidateDelete(all, *limits);
  if (!valid.ok()) return runtime::ToGrpcStatus(valid);

  const auto deadline = Deadline(*context);
  std::map<uint32_t, std::vector<std::string>> groups;
  for (const std::string& id : request->doc_ids()) {
    groups[PlaceDocument(request->tenant(), id, cluster_->shard_count())].push_back(id);
  }
  std::map<uint32_t, PendingShardWrite> pending;
  for (const auto& [shard, ids] : groups) {
    auto write = std::make_shared<ShardWrite>();
    write->remove.emplace();
    write->remove->set_tenant(request->tenant());
    for (const std::string& id : ids) write->remove->add_doc_ids(id);
    pending.emplace(shard, StartShardWrite(cluster_->Shard(shard), std::move(write),
                                           request->write_quorum(), deadline, queue));
  }
  std::map<uint32_t, ShardWriteResult> results;
  for (auto& [shard, write] : pending) results[shard] = write.Wait();

  for (const auto& [shard, ids] : groups) {
    const ShardWriteResult& result = results[shard];
    for (const std::string& id : ids)
      FillDocumentWrite(result, shard, id, response->add_documents());
    response->set_documents_deleted(response->documents_deleted() +
                                    result.remove.documents_deleted());
    response->set_chunks_deleted(response->chunks_deleted() + result.remove.chunks_deleted());
    for (const std::string& id : result.remove.not_found()) response->add_not_found(id);
  }
  return WriteFailure(results);
}

grpc::Status RouterService::PrepareSearch(const grpc::ServerContext& context,
                                          const v1::RouterSearchRequest& request,
                                          v1::SearchRequest* shard_request,
                                          std::chrono::system_clock::time_point* deadline) {
  if (grpc::Status allowed = CheckAccess(context, {request.principal().tenant()}); !allowed.ok()) {
    return allowed;
  }
  std::optional<shard::RequestLimits> limits = cluster_->limits();
  if (!limits) return kNoShardsYet;

  if (!request.vector().empty() && !request.text().empty()) {
    return Invalid("give either vector or text, not both");
  }
  if (!request.vector().empty()) {
    *shard_request->mutable_vector() = request.vector();
  } else if (!request.text().empty()) {
    absl::StatusOr<embed::Embedder*> embedder = GetEmbedder(limits->dimension);
    if (!embedder.ok()) return runtime::ToGrpcStatus(embedder.status());
    absl::StatusOr<std::vector<std::vector<float>>> vectors = (*embedder)->Embed({request.text()});
    if (!vectors.ok()) return runtime::ToGrpcStatus(vectors.status());
    shard_request->mutable_vector()->Assign((*vectors)[0].begin(), (*vectors)[0].end());
  } else {
    return Invalid("the request has neither a vector nor text");
  }
  shard_request->set_k(request.k());
  *shard_request->mutable_principal() = request.principal();
  *shard_request->mutable_filter() = request.filter();
  *shard_request->mutable_params() = request.params();
  shard_request->set_include_text(request.include_text());
  shard_request->set_include_metadata(request.include_metadata());
  absl::Status valid = shard::ValidateSearch(*shard_request, *limits);
  if (!valid.ok()) return runtime::ToGrpcStatus(valid);

  *deadline = Deadline(context) - options_.merge_margin;
  if (*deadline <= std::chrono::system_clock::now()) {
    return grpc::Status(grpc::StatusCode::DEADLINE_EXCEEDED,
                        "the deadline leaves no time to ask the shards");
  }
  return grpc::Status::OK;
}

grpc::Status RouterService::ConcludeSearch(std::vector<ShardAnswer> answers,
                                           const v1::RouterSearchRequest& request,
                                           v1::RouterSearchResponse* response) {
  std::vector<std::vector<v1::Hit>> hits;
  v1::Coverage* coverage = response->mutable_coverage();
  coverage->set_shards_total(answers.size());
  std::vector<std::string> problems;
  bool all_timed_out = true;
  for (size_t i = 0; i < answers.size(); ++i) {
    ShardAnswer& answer = answers[i];
    if (options_.metrics != nullptr) {
      options_.metrics->ShardSearched(i, answer.ok,
                                      std::chrono::duration<double>(answer.latency).count(),
                                      answer.hedge_sent, answer.hedge_won);
    }
    if (answer.ok) {
      coverage->set_shards_ok(coverage->shards_ok() + 1);
      hits.emplace_back(std::make_move_iterator(answer.response.mutable_hits()->begin()),
                        std::make_move_iterator(answer.response.mutable_hits()->end()));
      all_timed_out = false;
      continue;
    }
    coverage->add_missing_shards(i);
    all_timed_out &= answer.error.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED;
    problems.push_back(absl::StrCat("shard ", i, ": ", answer.error.error_message()));
  }
  if (!problems.empty()) {
    const std::string detail = absl::StrJoin(problems, "; ");
    if (coverage->shards_ok() == 0) {
      return grpc::Status(
          all_timed_out ? grpc::StatusCode::DEADLINE_EXCEEDED : grpc::StatusCode::UNAVAILABLE,
          absl::StrCat("no shard answered: ", detail));
    }
    if (request.require_full_coverage()) {
      return grpc::Status(grpc::StatusCode::UNAVAILABLE,
                          absl::StrCat("full coverage was required: ", detail));
    }
    response->set_partial(true);
    if (options_.metrics != nullptr) options_.metrics->PartialResult();
  }
  for (v1::Hit& hit : MergeTopK(std::move(hits), request.k(), request.max_hits_per_document())) {
    *response->add_hits() = std::move(hit);
  }
  return grpc::Status::OK;
}

grpc::Status RouterService::GetStatus(grpc::ServerContext* context, const v1::GetStatusRequest*,
                                      v1::GetStatusResponse* response) {
  runtime::CallGate::Pass pass(gate_);
  if (!pass.admitted()) return Draining();
  // Status covers every tenant's documents, so it takes an admin key.
  if (grpc::Status allowed = CheckAccess(*context, {}, /*admin=*/true); !allowed.ok()) {
    return allowed;
  }
  if (std::optional<shard::RequestLimits> limits = cluster_->limits()) {
    response->set_dimension(limits->dimension);
    response->set_metric(std::string(shard::MetricName(limits->metric)));
  }
  for (uint32_t i = 0; i < cluster_->shard_count(); ++i) {
    ShardGroup group = cluster_->Shard(i);
    v1::ShardStatus* shard = response->add_shards();
    shard->set_shard(i);
    shard->set_hedge_delay_ms(HedgeDelay(group, options_.hedge).count() / 1000.0);
    for (const std::shared_ptr<Replica>& replica : group.replicas) {
      v1::ReplicaStatus* status = shard->add_replicas();
      status->set_address(replica->address());
      status->set_healthy(replica->healthy());
      status->set_ejected(replica->ejected());
      status->set_stale(replica->stale());
      status->set_pending_writes(replica->pending_writes());
      status->set_outstanding(replica->outstanding());
      status->set_latency_p50_ms(
          replica->latency().Quantile(0.5, std::chrono::microseconds(0), 1).count() / 1000.0);
      status->set_latency_p99_ms(
          replica->latency().Quantile(0.99, std::chrono::microseconds(0), 1).count() / 1000.0);
      status->set_error(replica->last_error());
      grpc::ClientContext context;
      context.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(300));
      grpc::Status stats =
          replica->stub().Stats(&context, v1::StatsRequest(), status->mutable_stats());
      if (!stats.ok()) {
        status->clear_stats();
        status->set_error(stats.error_message());
      }
    }
  }
  return grpc::Status::OK;
}

grpc::Status RouterService::GetDocumentVersions(grpc::ServerContext* context,
                                                const v1::DocumentVersionsRequest* request,
                                                v1::DocumentVersionsResponse* response) {
  runtime::CallGate::Pass pass(gate_);
  if (!pass.admitted()) return Draining();
  if (grpc::Status allowed = CheckAccess(*context, {request->tenant()}); !allowed.ok()) {
    return allowed;
  }
  std::optional<shard::RequestLimits> limits = cluster_->limits();
  if (!limits) return kNoShardsYet;
  v1::DeleteRequest same_shape;
  same_shape.set_tenant(request->tenant());
  *same_shape.mutable_doc_ids() = request->doc_ids();
  absl::Status valid = shard::ValidateDelete(same_shape, *limits);
  if (!valid.ok()) return runtime::ToGrpcStatus(valid);

  std::map<uint32_t, v1::DocumentVersionsRequest> by_shard;
  for (const std::string& id : request->doc_ids()) {
    v1::DocumentVersionsRequest& part =
        by_shard[PlaceDocument(request->tenant(), id, cluster_->shard_count())];
    part.set_tenant(request->tenant());
    part.add_doc_ids(id);
  }
  // One up-to-date replica of each shard answers; the others are tried when it cannot.
  absl::flat_hash_map<std::string, v1::DocumentVersion> found;
  for (const auto& [shard, part] : by_shard) {
    grpc::Status status(grpc::StatusCode::UNAVAILABLE, "no replica of the shard is up to date");
    for (const std::shared_ptr<Replica>& replica : cluster_->Shard(shard).replicas) {
      if (replica->stale()) continue;
      grpc::ClientContext call;
      call.set_deadline(Deadline(*context));
      v1::DocumentVersionsResponse answer;
      status = replica->stub().GetDocumentVersions(&call, part, &answer);
      if (!status.ok()) continue;
      for (v1::DocumentVersion& version : *answer.mutable_documents()) {
        found[version.doc_id()] = std::move(version);
      }
      break;
    }
    if (!status.ok()) {
      return grpc::Status(status.error_code(),
                          absl::StrCat("shard ", shard, ": ", status.error_message()));
    }
  }
  for (const std::string& id : request->doc_ids()) {
    auto it = found.find(id);
    if (it != found.end()) *response->add_documents() = std::move(it->second);
  }
  return grpc::Status::OK;
}

grpc::Status RouterService::Backup(grpc::ServerContext* context,
                                   const v1::ClusterBackupRequest* request,
                                   v1::ClusterBackupResponse* response) {
  runtime::CallGate::Pass pass(gate_);
  if (!pass.admitted()) return Draining();
  // A backup copies every tenant's documents, so it takes an admin key.
  if (grpc::Status allowed = CheckAccess(*context, {}, /*admin=*/true); !allowed.ok()) {
    return allowed;
  }
  const auto now = std::chrono::system_clock::now();
  auto deadline = context->deadline();
  if (deadline > now + std::chrono::hours(24 * 365)) deadline = now + kDefaultBackupTimeout;
  absl::StatusOr<v1::ClusterBackupResponse> result =
      BackupCluster(*cluster_, request->directory(), deadline);
  if (!result.ok()) return runtime::ToGrpcStatus(result.status());
  *response = *std::move(result);
  return grpc::Status::OK;
}

}  // namespace quarry::router
