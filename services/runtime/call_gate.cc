#include "services/runtime/call_gate.h"

namespace quarry::runtime {

CallGate::Pass::Pass(CallGate& gate) : gate_(gate) {
  std::lock_guard lock(gate_.mu_);
  admitted_ = !gate_.closed_;
  if (admitted_) ++gate_.in_flight_;
}

CallGate::Pass::~Pass() {
  if (!admitted_) return;
  std::lock_guard lock(gate_.mu_);
  if (--gate_.in_flight_ == 0) gate_.idle_.notify_all();
}

void CallGate::Close() {
  std::lock_guard lock(mu_);
  closed_ = true;
}

bool CallGate::WaitIdle(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  return idle_.wait_for(lock, timeout, [this] { return in_flight_ == 0; });
}

}  // namespace quarry::runtime
