#include "router/replica.h"

#include "absl/strings/str_cat.h"
#include "services/runtime/log.h"

namespace quarry::router {
namespace {

// Codes that say something is wrong with the replica rather than with the request.
bool CountsAgainstReplica(grpc::StatusCode code) {
  return code == grpc::StatusCode::UNAVAILABLE || code == grpc::StatusCode::DEADLINE_EXCEEDED ||
         code == grpc::StatusCode::INTERNAL || code == grpc::StatusCode::UNKNOWN ||
         code == grpc::StatusCode::DATA_LOSS || code == grpc::StatusCode::RESOURCE_EXHAUSTED;
}

}  // namespace

Replica::Replica(std::string address, const ReplicaOptions& options)
    : address_(std::move(address)), options_(options) {
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(64 << 20);
  args.SetMaxSendMessageSize(64 << 20);
  // Reconnect quickly after a replica restarts, so health checks see it come back.
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 1000);
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 100);
  channel_ = options_.tls.CreateChannel(address_, args);
  stub_ = v1::Shard::NewStub(channel_);
  health_ = grpc::health::v1::Health::NewStub(channel_);
}

bool Replica::healthy() const {
  std::lock_guard lock(mu_);
  return serving_ && !ejected_until_.has_value();
}

bool Replica::ejected() const {
  std::lock_guard lock(mu_);
  return ejected_until_.has_value();
}

bool Replica::stale() const {
  std::lock_guard lock(mu_);
  return stale_;
}

void Replica::CallFinished(const grpc::Status& status, std::chrono::microseconds latency) {
  --outstanding_;
  if (status.ok()) {
    latency_.Record(latency);
    std::lock_guard lock(mu_);
    consecutive_errors_ = 0;
    return;
  }
  if (!CountsAgainstReplica(status.error_code())) return;
  std::lock_guard lock(mu_);
  last_error_ = status.error_message();
  if (++consecutive_errors_ >= options_.eject_after_errors && !ejected_until_) {
    ejected_until_ = std::chrono::steady_clock::now() + options_.eject_for;
    runtime::Logger("router")->warn("ejected replica {} after {} errors in a row: {}", address_,
                                    consecutive_errors_, status.error_message());
    if (options_.on_ejected) options_.on_ejected();
  }
}

void Replica::SetServing(bool serving) {
  std::lock_guard lock(mu_);
  if (serving_ != serving) {
    runtime::Logger("router")->info("replica {} is {}", address_,
                                    serving ? "serving" : "not serving");
  }
  serving_ = serving;
  if (serving && ejected_until_ && std::chrono::steady_clock::now() >= *ejected_until_) {
    ejected_until_.reset();
    consecutive_errors_ = 0;
    runtime::Logger("router")->info("replica {} is back after its ejection", address_);
  }
}

bool Replica::QueueIfStale(std::shared_ptr<const ShardWrite> write) {
  std::lock_guard lock(mu_);
  if (!stale_) return false;
  if (missed_.size() >= options_.max_pending_writes) {
    overflowed_ = true;  // it stays stale: an operator must copy a healthy replica over it
    return true;
  }
  missed_.push_back(std::move(write));
  return true;
}

void Replica::MarkMissed(std::shared_ptr<const ShardWrite> write, const std::string& error) {
  std::lock_guard lock(mu_);
  if (!stale_) {
    runtime::Logger("router")->warn(
        "replica {} missed a write and is stale until it is "
        "repaired: {}",
        address_, error);
  }
  stale_ = true;
  last_error_ = error;
  if (missed_.size() >= options_.max_pending_writes) {
    overflowed_ = true;
    return;
  }
  missed_.push_back(std::move(write));
}

std::shared_ptr<const ShardWrite> Replica::NextMissedWrite() const {
  std::lock_guard lock(mu_);
  if (overflowed_ || missed_.empty()) return nullptr;
  return missed_.front();
}

void Replica::WriteRepaired() {
  std::lock_guard lock(mu_);
  if (!missed_.empty()) missed_.pop_front();
  if (missed_.empty() && !overflowed_ && stale_) {
    stale_ = false;
    runtime::Logger("router")->info("replica {} caught up on its missed writes", address_);
  }
}

size_t Replica::pending_writes() const {
  std::lock_guard lock(mu_);
  return missed_.size();
}

std::string Replica::last_error() const {
  std::lock_guard lock(mu_);
  return last_error_;
}

}  // namespace quarry::router
