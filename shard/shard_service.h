// The gRPC face of a shard: translates quarry.v1.Shard calls to Shard and statuses back.
// Until the shard has loaded (SetShard), and once draining has begun (gate().Close()), every
// call answers UNAVAILABLE.
//
// Thread-safe.
#ifndef QUARRY_SHARD_SHARD_SERVICE_H_
#define QUARRY_SHARD_SHARD_SERVICE_H_

#include <atomic>

#include "quarry/v1/shard.grpc.pb.h"
#include "services/runtime/call_gate.h"
#include "shard/shard.h"

namespace quarry::shard {

class ShardService final : public v1::Shard::Service {
 public:
  // Starts serving `shard` (not owned; must outlive the calls). Null stops serving.
  void SetShard(Shard* shard) { shard_.store(shard); }
  runtime::CallGate& gate() { return gate_; }

  grpc::Status Upsert(grpc::ServerContext* context, const v1::UpsertRequest* request,
                      v1::UpsertResponse* response) override;
  grpc::Status Delete(grpc::ServerContext* context, const v1::DeleteRequest* request,
                      v1::DeleteResponse* response) override;
  grpc::Status Search(grpc::ServerContext* context, const v1::SearchRequest* request,
                      v1::SearchResponse* response) override;
  grpc::Status GetChunks(grpc::ServerContext* context, const v1::GetChunksRequest* request,
                         v1::GetChunksResponse* response) override;
  grpc::Status Stats(grpc::ServerContext* context, const v1::StatsRequest* request,
                     v1::StatsResponse* response) override;
  grpc::Status GetDocumentVersions(grpc::ServerContext* context,
                                   const v1::DocumentVersionsRequest* request,
                                   v1::DocumentVersionsResponse* response) override;
  grpc::Status Backup(grpc::ServerContext* context, const v1::BackupRequest* request,
                      v1::BackupResponse* response) override;

 private:
  template <typename Response, typename Call>
  grpc::Status Serve(Response* response, Call call);

  std::atomic<Shard*> shard_{nullptr};
  runtime::CallGate gate_;
};

}  // namespace quarry::shard

#endif  // QUARRY_SHARD_SHARD_SERVICE_H_
