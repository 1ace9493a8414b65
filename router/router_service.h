// The gRPC face of the router: validates requests against the shards' limits, embeds text,
// and runs placement, replicated writes and the hedged fan-out search.
//
// Thread-safe.
#ifndef QUARRY_ROUTER_ROUTER_SERVICE_H_
#define QUARRY_ROUTER_ROUTER_SERVICE_H_

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "quarry/v1/router.grpc.pb.h"
#include "router/cluster.h"
#include "router/fanout_search.h"
#include "router/router_metrics.h"
#include "services/embed/embedder.h"
#include "services/runtime/api_keys.h"
#include "services/runtime/call_gate.h"

namespace quarry::router {

struct RouterOptions {
  HedgeOptions hedge;
  // Used when the caller sets no deadline.
  std::chrono::milliseconds default_timeout{10000};
  // Time kept back from the caller's deadline to merge the shards' answers.
  std::chrono::milliseconds merge_margin{5};
  // When set, every call must carry a key of this table, and may act only for its tenant;
  // GetStatus and Backup, which name no tenant, need an admin key. Null: calls are not checked.
  std::shared_ptr<const runtime::ApiKeyTable> api_keys;
  RouterMetrics* metrics = nullptr;  // not owned; null: nothing is recorded
};

// Makes the embedder for vectors of the given dimension (the shards'); null: text needs vectors.
using EmbedderFactory =
    std::function<absl::StatusOr<std::unique_ptr<embed::Embedder>>(int dimension)>;

// Search is served asynchronously: a SearchCall (search_call.h) takes each request from an
// event-loop queue, and calls PrepareSearch, a FanOut and ConcludeSearch. The other methods are
// synchronous.
class RouterService final : public v1::Router::WithAsyncMethod_Search<v1::Router::Service> {
 public:
  // `cluster` must outlive the service. The embedder is made once the shards' dimension is
  // known.
  RouterService(Cluster* cluster, EmbedderFactory embedder_factory, const RouterOptions& options);

  runtime::CallGate& gate() { return gate_; }
  // The answer to a call that arrives once the gate has closed.
  static const grpc::Status& Draining();
  // Counts the SearchCalls that exist, waiting for a request or serving one; never closed.
  runtime::CallGate& search_calls() { return search_calls_; }
  const RouterOptions& options() const { return options_; }
  const Cluster& cluster() const { return *cluster_; }

  // The queue whose event loop completes replicated writes; until it is set, writes are refused
  // as UNAVAILABLE. Not owned; it must outlive the service's calls.
  void UseWriteQueue(grpc::CompletionQueue* queue) { write_queue_.store(queue); }

  // The checks and the shard request of a search: the caller's access, the request against the
  // shards' limits, the query vector (text is embedded here, which may block on an embedding
  // service), and the deadline of the shard calls, the merge margin kept back.
  grpc::Status PrepareSearch(const grpc::ServerContext& context,
                             const v1::RouterSearchRequest& request,
                             v1::SearchRequest* shard_request,
                             std::chrono::system_clock::time_point* deadline);

  // The answer to a search from the shards' answers: coverage, partial or failed, and the
  // merged top-k. Records the shard metrics.
  grpc::Status ConcludeSearch(std::vector<ShardAnswer> answers,
                              const v1::RouterSearchRequest& request,
                              v1::RouterSearchResponse* response);

  grpc::Status Ingest(grpc::ServerContext* context, const v1::IngestRequest* request,
                      v1::IngestResponse* response) override;
  grpc::Status Delete(grpc::ServerContext* context, const v1::RouterDeleteRequest* request,
                      v1::RouterDeleteResponse* response) override;
  grpc::Status GetStatus(grpc::ServerContext* context, const v1::GetStatusRequest* request,
                         v1::GetStatusResponse* response) override;
  grpc::Status GetDocumentVersions(grpc::ServerContext* context,
                                   const v1::DocumentVersionsRequest* request,
                                   v1::DocumentVersionsResponse* response) override;
  grpc::Status Backup(grpc::ServerContext* context, const v1::ClusterBackupRequest* request,
                      v1::ClusterBackupResponse* response) override;

 private:
  // The embedder, made on first use; INVALID_ARGUMENT when the router has none.
  absl::StatusOr<embed::Embedder*> GetEmbedder(int dimension);

  // OK when no keys are configured, or when the call's API key may act for every tenant in
  // `tenants` and, for an `admin` operation, is an admin key; UNAUTHENTICATED or
  // PERMISSION_DENIED otherwise.
  grpc::Status CheckAccess(const grpc::ServerContext& context,
                           const std::vector<std::string>& tenants, bool admin = false) const;

  // The caller's deadline, or the default when it set none.
  std::chrono::system_clock::time_point Deadline(const grpc::ServerContext& context) const;

  Cluster* const cluster_;
  const EmbedderFactory embedder_factory_;
  std::mutex embedder_mu_;
  std::unique_ptr<embed::Embedder> embedder_;  // guarded by embedder_mu_
  const RouterOptions options_;
  runtime::CallGate gate_;
  runtime::CallGate search_calls_;
  std::atomic<grpc::CompletionQueue*> write_queue_{nullptr};
};

}  // namespace quarry::router

#endif  // QUARRY_ROUTER_ROUTER_SERVICE_H_
