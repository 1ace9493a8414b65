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

}  // namespace

struct WriteState {
  std::shared_ptr<const ShardWrite> write;
  std::mutex mu;
  std::condition_variable changed;
  ShardWriteResult result;  // guarded by mu
  size_t finished = 0;      // guarded by mu
  grpc::Status rejection;   // guarded by mu
};

namespace {

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

PendingShardWrite::~PendingShardWrite() = default;
PendingShardWrite::PendingShardWrite(PendingShardWrite&&) noexcept = default;
PendingShardWrite& PendingShardWrite::operator=(PendingShardWrite&&) noexcept = default;

PendingShardWrite StartShardWrite(const ShardGroup& group, std::shared_ptr<const ShardWrite> write,
                                  uint32_t requested_quorum,
                                  std::chrono::system_clock::time_point deadline,
                                  grpc::CompletionQueue* queue) {
  PendingShardWrite pending;
  pending.state_ = std::make_shared<WriteState>();
  pending.state_->write = write;
  pending.needed_ = WriteQuorum(group.replicas.size(), requested_quorum);
  pending.deadline_ = deadline;
  for (const std::shared_ptr<Replica>& replica : group.replicas) {
    pending.addresses_.push_back(replica->address());
    if (replica->QueueIfStale(write)) {
      std::lock_guard lock(pending.state_->mu);
      pending.state_->result.failed.push_back(replica->address() + " (stale; write queued)");
      continue;
    }
    ++pending.sent_;
    (new ReplicaCall(pending.state_, replica, deadline))->Start(queue);
  }
  return pending;
}

ShardWriteResult PendingShardWrite::Wait() {
  // Answer as soon as a quorum acknowledged; the rest finish on their own.
  std::unique_lock lock(state_->mu);
  state_->changed.wait_until(lock, deadline_, [&] {
    return state_->result.acked.size() >= needed_ || state_->finished == sent_;
  });
  ShardWriteResult result = state_->result;
  result.quorum = result.acked.size() >= needed_;
  if (!result.quorum) {
    if (!state_->rejection.ok()) {
      result.code = state_->rejection.error_code();
      result.error = state_->rejection.error_message();
    } else {
      result.code = state_->finished == sent_ ? grpc::StatusCode::UNAVAILABLE
                                              : grpc::StatusCode::DEADLINE_EXCEEDED;
      result.error =
          absl::StrCat(result.acked.size(), " of ", addresses_.size(), " replicas acknowledged, ",
                       needed_, " needed; failed: ", absl::StrJoin(result.failed, ", "));
    }
  }
  return result;
}

}  // namespace quarry::router
