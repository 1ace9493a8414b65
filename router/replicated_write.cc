#include "router/replicated_write.h"

#include <condition_variable>
#include <mutex>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "router/completion_tag.h"

namespace quarry::router {
namespace {

// The write itself is at fault: every replica would refuse it, so none is stale for it.
bool RejectsTheWrite(grpc::StatusCode code) {
  return code == grpc::StatusCode::INVALID_ARGUMENT ||
         code == grpc::StatusCode::FAILED_PRECONDITION;
}

struct WriteState {
  std::shared_ptr<const ShardWrite> write;
  std::mutex mu;
  std::condition_variable changed;
  ShardWriteResult result;  // guarded by mu
  size_t finished = 0;      // guarded by mu
  grpc::Status rejection;   // guarded by mu
};

// One replica's share of a write; it deletes itself when the call comes back.
class ReplicaCall final : public CompletionTag {
 public:
  ReplicaCall(std::shared_ptr<WriteState> state, std::shared_ptr<Replica> replica,
              std::chrono::system_clock::time_point deadline)
      : state_(std::move(state)), replica_(std::move(replica)) {
    context_.set_deadline(deadline);
  }

  void Start(grpc::CompletionQueue* queue) {
    started_ = std::chrono::steady_clock::now();
    replica_->CallStarted();
    const ShardWrite& write = *state_->write;
    if (write.upsert) {
      upsert_reader_ = replica_->stub().PrepareAsyncUpsert(&context_, *write.upsert, queue);
      upsert_reader_->StartCall();
      upsert_reader_->Finish(&upsert_, &status_, this);
    } else {
      delete_reader_ = replica_->stub().PrepareAsyncDelete(&context_, *write.remove, queue);
      delete_reader_->StartCall();
      delete_reader_->Finish(&remove_, &status_, this);
    }
  }

  void OnComplete(bool) override {
    replica_->CallFinished(status_, std::chrono::duration_cast<std::chrono::microseconds>(
                                        std::chrono::steady_clock::now() - started_));
    if (!status_.ok() && !RejectsTheWrite(status_.error_code())) {
      replica_->MarkMissed(state_->write, status_.error_message());
    }
    {
      std::lock_guard lock(state_->mu);
      ++state_->finished;
      ShardWriteResult& result = state_->result;
      if (status_.ok()) {
        if (result.acked.empty()) {
          result.upsert = upsert_;
          result.remove = remove_;
        }
        result.acked.push_back(replica_->address());
      } else {
        result.failed.push_back(
            absl::StrCat(replica_->address(), " (", status_.error_message(), ")"));
        if (RejectsTheWrite(status_.error_code())) state_->rejection = status_;
      }
      state_->changed.notify_all();
    }
    delete this;
  }

 private:
  const std::shared_ptr<WriteState> state_;
  const std::shared_ptr<Replica> replica_;
  grpc::ClientContext context_;
  std::unique_ptr<grpc::ClientAsyncResponseReader<v1::UpsertResponse>> upsert_reader_;
  std::unique_ptr<grpc::ClientAsyncResponseReader<v1::DeleteResponse>> delete_reader_;
  v1::UpsertResponse upsert_;
  v1::DeleteResponse remove_;
  grpc::Status status_;
  std::chrono::steady_clock::time_point started_;
};

}  // namespace

size_t WriteQuorum(size_t replicas, uint32_t requested) {
  if (requested == 0) return replicas / 2 + 1;
  return std::min<size_t>(requested, replicas);
}

ShardWriteResult WriteToShard(const ShardGroup& group, std::shared_ptr<const ShardWrite> write,
                              uint32_t requested_quorum,
                              std::chrono::system_clock::time_point deadline,
                              grpc::CompletionQueue* queue) {
  auto state = std::make_shared<WriteState>();
  state->write = write;
  const size_t needed = WriteQuorum(group.replicas.size(), requested_quorum);
  size_t sent = 0;

  for (const std::shared_ptr<Replica>& replica : group.replicas) {
    if (replica->QueueIfStale(write)) {
      std::lock_guard lock(state->mu);
      state->result.failed.push_back(replica->address() + " (stale; write queued)");
      continue;
    }
    ++sent;
    (new ReplicaCall(state, replica, deadline))->Start(queue);
  }

  // Answer as soon as a quorum acknowledged; the rest finish on their own.
  std::unique_lock lock(state->mu);
  state->changed.wait_until(lock, deadline, [&] {
    return state->result.acked.size() >= needed || state->finished == sent;
  });
  ShardWriteResult result = state->result;
  result.quorum = result.acked.size() >= needed;
  if (!result.quorum) {
    if (!state->rejection.ok()) {
      result.code = state->rejection.error_code();
      result.error = state->rejection.error_message();
    } else {
      result.code = state->finished == sent ? grpc::StatusCode::UNAVAILABLE
                                            : grpc::StatusCode::DEADLINE_EXCEEDED;
      result.error = absl::StrCat(result.acked.size(), " of ", group.replicas.size(),
                                  " replicas acknowledged, ", needed,
                                  " needed; failed: ", absl::StrJoin(result.failed, ", "));
    }
  }
  return result;
}

}  // namespace quarry::router
