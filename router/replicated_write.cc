#include "router/replicated_write.h"

#include <condition_variable>
#include <mutex>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace quarry::router {
namespace {

// The write itself is at fault: every replica would refuse it, so none is stale for it.
bool RejectsTheWrite(grpc::StatusCode code) {
  return code == grpc::StatusCode::INVALID_ARGUMENT ||
         code == grpc::StatusCode::FAILED_PRECONDITION;
}

struct ReplicaCall {
  std::shared_ptr<Replica> replica;
  grpc::ClientContext context;
  v1::UpsertResponse upsert;
  v1::DeleteResponse remove;
  std::chrono::steady_clock::time_point started;
};

struct WriteState {
  std::shared_ptr<const ShardWrite> write;
  std::mutex mu;
  std::condition_variable changed;
  std::vector<std::unique_ptr<ReplicaCall>> calls;
  ShardWriteResult result;  // guarded by mu
  size_t finished = 0;      // guarded by mu
  grpc::Status rejection;   // guarded by mu
};

}  // namespace

size_t WriteQuorum(size_t replicas, uint32_t requested) {
  if (requested == 0) return replicas / 2 + 1;
  return std::min<size_t>(requested, replicas);
}

ShardWriteResult WriteToShard(const ShardGroup& group, std::shared_ptr<const ShardWrite> write,
                              uint32_t requested_quorum,
                              std::chrono::system_clock::time_point deadline) {
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
    auto call = std::make_unique<ReplicaCall>();
    call->replica = replica;
    call->context.set_deadline(deadline);
    call->started = std::chrono::steady_clock::now();
    ReplicaCall* raw = call.get();
    {
      std::lock_guard lock(state->mu);
      state->calls.push_back(std::move(call));
    }
    ++sent;
    replica->CallStarted();
    auto done = [state, raw](grpc::Status status) {
      raw->replica->CallFinished(status, std::chrono::duration_cast<std::chrono::microseconds>(
                                             std::chrono::steady_clock::now() - raw->started));
      if (!status.ok() && !RejectsTheWrite(status.error_code())) {
        raw->replica->MarkMissed(state->write, status.error_message());
      }
      std::lock_guard lock(state->mu);
      ++state->finished;
      ShardWriteResult& result = state->result;
      if (status.ok()) {
        if (result.acked.empty()) {
          result.upsert = raw->upsert;
          result.remove = raw->remove;
        }
        result.acked.push_back(raw->replica->address());
      } else {
        result.failed.push_back(
            absl::StrCat(raw->replica->address(), " (", status.error_message(), ")"));
        if (RejectsTheWrite(status.error_code())) state->rejection = status;
      }
      state->changed.notify_all();
    };
    if (write->upsert) {
      replica->stub().async()->Upsert(&raw->context, &*write->upsert, &raw->upsert, done);
    } else {
      replica->stub().async()->Delete(&raw->context, &*write->remove, &raw->remove, done);
    }
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
