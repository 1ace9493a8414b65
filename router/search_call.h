// One Router.Search served asynchronously, from the request to the answer, on the event loop of
// one completion queue (see completion_tag.h).
//
// A SearchCall waits for the next request on its queue and, when it comes, leaves another
// waiting in its place. It checks and prepares the request (RouterService::PrepareSearch; a
// text query is embedded on a thread of its own, since an embedding service may take a while),
// fans out to the shards (FanOut, on the same queue), answers (RouterService::ConcludeSearch),
// and deletes itself once the answer is sent. It holds a place in the service's CallGate from
// the request to the answer, so that draining waits for it. When the caller goes away (it
// cancels, or the server shuts down) the shard calls still out are cancelled.
#ifndef QUARRY_ROUTER_SEARCH_CALL_H_
#define QUARRY_ROUTER_SEARCH_CALL_H_

#include <grpcpp/alarm.h>
#include <grpcpp/grpcpp.h>

#include <chrono>
#include <memory>
#include <optional>

#include "quarry/v1/router.grpc.pb.h"
#include "router/completion_tag.h"
#include "router/fanout_search.h"
#include "router/router_service.h"
#include "services/runtime/call_gate.h"

namespace quarry::router {

class SearchCall final : public CompletionTag {
 public:
  // Waits for the next Router.Search on `queue`. `service` must outlive every call.
  static void Await(RouterService* service, grpc::ServerCompletionQueue* queue);

  void OnComplete(bool ok) override;

 private:
  enum class Stage { kWaiting, kEmbedding, kSearching, kAnswering };

  // Says when the call is over, answered or cancelled.
  struct CallOver final : CompletionTag {
    void OnComplete(bool) override { owner->Over(); }
    SearchCall* owner = nullptr;
  };

  SearchCall(RouterService* service, grpc::ServerCompletionQueue* queue);

  void Over();
  // Deletes this once both the answer and the end of the call are back.
  void DeleteWhenDone();

  // The request has arrived.
  void Begin();
  // Asks the shards, once the request is prepared with `status`.
  void Search(const grpc::Status& status);
  void Answer(const grpc::Status& status);

  RouterService* const service_;
  grpc::ServerCompletionQueue* const queue_;
  const runtime::CallGate::Pass alive_;  // in service_->search_calls()
  Stage stage_ = Stage::kWaiting;
  grpc::ServerContext context_;
  v1::RouterSearchRequest request_;
  v1::RouterSearchResponse response_;
  grpc::ServerAsyncResponseWriter<v1::RouterSearchResponse> writer_{&context_};
  std::optional<runtime::CallGate::Pass> pass_;
  v1::SearchRequest shard_request_;
  std::chrono::system_clock::time_point deadline_;
  grpc::Status prepared_;     // set by the embedding thread, read after its alarm
  grpc::Alarm back_on_loop_;  // brings a text query back to the queue once it is embedded
  std::unique_ptr<FanOut> fan_out_;
  CallOver call_over_;
  bool over_ = false;      // the call is over: answered, or cancelled
  bool answered_ = false;  // the answer's tag is back
};

}  // namespace quarry::router

#endif  // QUARRY_ROUTER_SEARCH_CALL_H_
