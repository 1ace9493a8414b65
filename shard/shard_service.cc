#include "shard/shard_service.h"

#include <omp.h>

#include "services/runtime/status.h"

namespace quarry::shard {
namespace {

const grpc::Status kLoading(grpc::StatusCode::UNAVAILABLE,
                            "the shard is loading its index; retry shortly");
const grpc::Status kDraining(grpc::StatusCode::UNAVAILABLE,
                             "the shard is shutting down; retry on another replica");

}  // namespace

// Runs `call` against the shard and moves its result into `response`.
template <typename Response, typename Call>
grpc::Status ShardService::Serve(Response* response, Call call) {
  runtime::CallGate::Pass pass(gate_);
  if (!pass.admitted()) return kDraining;
  Shard* shard = shard_.load();
  if (shard == nullptr) return kLoading;
  absl::StatusOr<Response> result = call(*shard);
  if (!result.ok()) return runtime::ToGrpcStatus(result.status());
  *response = *std::move(result);
  return grpc::Status::OK;
}

grpc::Status ShardService::Upsert(grpc::ServerContext*, const v1::UpsertRequest* request,
                                  v1::UpsertResponse* response) {
  return Serve(response, [&](Shard& shard) { return shard.Upsert(*request); });
}

grpc::Status ShardService::Delete(grpc::ServerContext*, const v1::DeleteRequest* request,
                                  v1::DeleteResponse* response) {
  return Serve(response, [&](Shard& shard) { return shard.Delete(*request); });
}

grpc::Status ShardService::Search(grpc::ServerContext*, const v1::SearchRequest* request,
                                  v1::SearchResponse* response) {
  // Concurrency comes from concurrent calls; one query must not fan out over every core.
  omp_set_num_threads(1);
  return Serve(response, [&](Shard& shard) { return shard.Search(*request); });
}

grpc::Status ShardService::GetChunks(grpc::ServerContext*, const v1::GetChunksRequest* request,
                                     v1::GetChunksResponse* response) {
  return Serve(response, [&](Shard& shard) { return shard.GetChunks(*request); });
}

grpc::Status ShardService::Stats(grpc::ServerContext*, const v1::StatsRequest*,
                                 v1::StatsResponse* response) {
  return Serve(response,
               [&](Shard& shard) -> absl::StatusOr<v1::StatsResponse> { return shard.Stats(); });
}

grpc::Status ShardService::GetDocumentVersions(grpc::ServerContext*,
                                               const v1::DocumentVersionsRequest* request,
                                               v1::DocumentVersionsResponse* response) {
  return Serve(response, [&](Shard& shard) { return shard.GetDocumentVersions(*request); });
}

grpc::Status ShardService::Backup(grpc::ServerContext*, const v1::BackupRequest* request,
                                  v1::BackupResponse* response) {
  return Serve(response, [&](Shard& shard) { return shard.Backup(request->directory()); });
}

}  // namespace quarry::shard
