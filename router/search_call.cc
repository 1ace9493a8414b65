#include "router/search_call.h"

#include <thread>
#include <utility>

namespace quarry::router {

void SearchCall::Await(RouterService* service, grpc::ServerCompletionQueue* queue) {
  new SearchCall(service, queue);
}

SearchCall::SearchCall(RouterService* service, grpc::ServerCompletionQueue* queue)
    : service_(service), queue_(queue), alive_(service->search_calls()) {
  call_over_.owner = this;
  context_.AsyncNotifyWhenDone(&call_over_);  // delivered only if a request arrives
  service_->RequestSearch(&context_, &request_, &writer_, queue_, queue_, this);
}

void SearchCall::OnComplete(bool ok) {
  switch (stage_) {
    case Stage::kWaiting:
      if (!ok) {  // the server is shutting down
        delete this;
        return;
      }
      Begin();
      return;
    case Stage::kEmbedding:
      Search(over_ ? grpc::Status(grpc::StatusCode::CANCELLED, "the caller went away") : prepared_);
      return;
    case Stage::kSearching:  // not a tag of this stage
      return;
    case Stage::kAnswering:
      answered_ = true;
      DeleteWhenDone();
      return;
  }
}

void SearchCall::Over() {
  over_ = true;
  // Cancelled before the answer: the shards need not go on.
  if (stage_ == Stage::kSearching && fan_out_ != nullptr) fan_out_->Cancel();
  DeleteWhenDone();
}

void SearchCall::DeleteWhenDone() {
  if (over_ && answered_) delete this;
}

void SearchCall::Begin() {
  pass_.emplace(service_->gate());
  if (!pass_->admitted()) {
    Answer(
        RouterService::Draining());  // and no other request is waited for: the router is stopping
    return;
  }
  Await(service_, queue_);
  if (request_.text().empty()) {
    Search(service_->PrepareSearch(context_, request_, &shard_request_, &deadline_));
    return;
  }
  // Embedding may wait on a remote service: not on the event loop.
  stage_ = Stage::kEmbedding;
  std::thread([this] {
    prepared_ = service_->PrepareSearch(context_, request_, &shard_request_, &deadline_);
    back_on_loop_.Set(queue_, std::chrono::system_clock::now(), this);
  }).detach();
}

void SearchCall::Search(const grpc::Status& status) {
  if (!status.ok()) {
    Answer(status);
    return;
  }
  stage_ = Stage::kSearching;
  fan_out_ = std::make_unique<FanOut>(
      service_->cluster(), shard_request_, deadline_, service_->options().hedge, queue_,
      [this](std::vector<ShardAnswer> answers) {
        Answer(service_->ConcludeSearch(std::move(answers), request_, &response_));
      });
  fan_out_->Start();
}

void SearchCall::Answer(const grpc::Status& status) {
  stage_ = Stage::kAnswering;
  if (status.ok()) {
    writer_.Finish(response_, grpc::Status::OK, this);
  } else {
    writer_.FinishWithError(status, this);
  }
}

}  // namespace quarry::router
