// forwarding_proxy: the least a gRPC hop in front of shards can cost, as a baseline for
// router_bench. It serves Router.Search with gRPC's asynchronous API on one completion-queue
// thread, sends each request to every shard at once on the same queue, and answers with the
// shards' hits put together: no validation, placement, replica choice, hedging, deadline
// margin, health service, reflection, metrics or merge. Whatever the router costs beyond this
// program is the router's own; what this program costs is the price of any gRPC hop here.
//
//   forwarding_proxy --port-file FILE --shard HOST:PORT [--shard HOST:PORT ...]
//
// Listens on a free loopback port, writes it to FILE, and serves until killed.
#include <grpcpp/grpcpp.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "quarry/v1/router.grpc.pb.h"
#include "quarry/v1/shard.grpc.pb.h"

namespace quarry::bench {
namespace {

// Something waiting on the completion queue.
class Pending {
 public:
  virtual ~Pending() = default;
  virtual void Proceed(bool ok) = 0;
};

class ForwardingProxy {
 public:
  explicit ForwardingProxy(const std::vector<std::string>& shards) {
    for (const std::string& address : shards) {
      stubs_.push_back(
          v1::Shard::NewStub(grpc::CreateChannel(address, grpc::InsecureChannelCredentials())));
    }
  }

  v1::Router::AsyncService& service() { return service_; }

  // Serves on `queue` until it shuts down.
  void Run(grpc::ServerCompletionQueue* queue);

 private:
  class Search;

  v1::Router::AsyncService service_;
  std::vector<std::unique_ptr<v1::Shard::Stub>> stubs_;
};

// One Router.Search, from the request through one call per shard to the answer.
class ForwardingProxy::Search final : public Pending {
 public:
  Search(ForwardingProxy* proxy, grpc::ServerCompletionQueue* queue)
      : proxy_(proxy), queue_(queue), shard_calls_(proxy->stubs_.size()) {
    proxy_->service_.RequestSearch(&context_, &request_, &writer_, queue_, queue_, this);
  }

  void Proceed(bool ok) override {
    if (answered_ || !ok) {
      delete this;
      return;
    }
    new Search(proxy_, queue_);  // the next request
    *shard_request_.mutable_vector() = request_.vector();
    shard_request_.set_k(request_.k());
    *shard_request_.mutable_principal() = request_.principal();
    for (size_t i = 0; i < shard_calls_.size(); ++i) {
      ShardCall& call = shard_calls_[i];
      call.search = this;
      call.reader = proxy_->stubs_[i]->PrepareAsyncSearch(&call.context, shard_request_, queue_);
      call.reader->StartCall();
      call.reader->Finish(&call.response, &call.status, &call);
    }
    waiting_ = shard_calls_.size();
  }

 private:
  struct ShardCall final : Pending {
    void Proceed(bool) override { search->ShardAnswered(); }

    Search* search = nullptr;
    grpc::ClientContext context;
    v1::SearchResponse response;
    grpc::Status status;
    std::unique_ptr<grpc::ClientAsyncResponseReader<v1::SearchResponse>> reader;
  };

  void ShardAnswered() {
    if (--waiting_ > 0) return;
    grpc::Status status;
    for (ShardCall& call : shard_calls_) {
      if (!call.status.ok()) status = call.status;
      for (v1::Hit& hit : *call.response.mutable_hits()) *response_.add_hits() = std::move(hit);
    }
    answered_ = true;
    writer_.Finish(response_, status, this);
  }

  ForwardingProxy* const proxy_;
  grpc::ServerCompletionQueue* const queue_;
  grpc::ServerContext context_;
  v1::RouterSearchRequest request_;
  v1::RouterSearchResponse response_;
  grpc::ServerAsyncResponseWriter<v1::RouterSearchResponse> writer_{&context_};
  v1::SearchRequest shard_request_;
  std::vector<ShardCall> shard_calls_;
  size_t waiting_ = 0;
  bool answered_ = false;
};

void ForwardingProxy::Run(grpc::ServerCompletionQueue* queue) {
  // A few requests are accepted ahead so that concurrent callers do not queue for a slot.
  for (int i = 0; i < 8; ++i) new Search(this, queue);
  void* tag;
  bool ok;
  while (queue->Next(&tag, &ok)) static_cast<Pending*>(tag)->Proceed(ok);
}

}  // namespace
}  // namespace quarry::bench

int main(int argc, char** argv) {
  CLI::App app{"A bare gRPC forwarding hop in front of shards, as a baseline for router_bench"};
  std::string port_file;
  std::vector<std::string> shards;
  app.add_option("--port-file", port_file, "Where to write the port it listens on")->required();
  app.add_option("--shard", shards, "host:port of a shard; repeat for each")->required();
  CLI11_PARSE(app, argc, argv);

  quarry::bench::ForwardingProxy proxy(shards);
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
  builder.RegisterService(&proxy.service());
  std::unique_ptr<grpc::ServerCompletionQueue> queue = builder.AddCompletionQueue();
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr || port == 0) {
    std::fprintf(stderr, "forwarding_proxy: cannot listen on a loopback port\n");
    return 1;
  }
  {
    const std::string temporary = port_file + ".tmp";
    std::ofstream(temporary) << port << "\n";
    std::rename(temporary.c_str(), port_file.c_str());
  }
  proxy.Run(queue.get());  // until killed
  return 0;
}
