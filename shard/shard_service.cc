#include "shard/shard_service.h"

#include <omp.h>

#include "services/runtime/status.h"

namespace quarry::shard {
namespace {

const grpc::Status kLoading(grpc::StatusCode::UNAVAILABLE,
                            "the shard is loading its index; retry shortly");

// Runs `call` against the shard and moves its result into `response`.
template <typename Response, typename Call>
grpc::Status Serve(Shard* shard, Response* response, Call call) {
  if (shard == nullptr) return kLoading;
  absl::StatusOr<Response> result = call(*shard);
  if (!result.ok()) return runtime::ToGrpcStatus(result.status());
  *response = *std::move(result);
  return grpc::Status::OK;
}

}  // namespace

grpc::Status ShardService::Upsert(grpc::ServerContext*, const v1::UpsertRequest* request,
                                  v1::UpsertResponse* response) {
  return Serve(shard_.load(), response, [&](Shard& shard) { return shard.Upsert(*request); });
}

grpc::Status ShardService::Delete(grpc::ServerContext*, const v1::DeleteRequest* request,
                                  v1::DeleteResponse* response) {
  return Serve(shard_.load(), response, [&](Shard& shard) { return shard.Delete(*request); });
}

grpc::Status ShardService::Search(grpc::ServerContext*, const v1::SearchRequest* request,
                                  v1::SearchResponse* response) {
  // Concurrency comes from concurrent calls; one query must not fan out over every core.
  omp_set_num_threads(1);
  return Serve(shard_.load(), response, [&](Shard& shard) { return shard.Search(*request); });
}

grpc::Status ShardService::GetChunks(grpc::ServerContext*, const v1::GetChunksRequest* request,
                                     v1::GetChunksResponse* response) {
  return Serve(shard_.load(), response, [&](Shard& shard) { return shard.GetChunks(*request); });
}

grpc::Status ShardService::Stats(grpc::ServerContext*, const v1::StatsRequest*,
                                 v1::StatsResponse* response) {
  return Serve(shard_.load(), response,
               [&](Shard& shard) -> absl::StatusOr<v1::StatsResponse> { return shard.Stats(); });
}

}  // namespace quarry::shard
