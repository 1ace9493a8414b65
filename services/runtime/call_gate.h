// Admits calls into a service and lets shutdown wait for the ones in flight.
//
// gRPC's own Server::Shutdown(deadline) waits for idle client connections as well as for
// calls, so with a router connected it would always take the whole grace period. A service
// instead passes each call through a CallGate: on shutdown the gate closes (new calls get
// UNAVAILABLE, which clients retry elsewhere), WaitIdle returns as soon as the calls in flight
// finish, and the server can then be shut down at once.
//
// Thread-safe.
#ifndef QUARRY_SERVICES_RUNTIME_CALL_GATE_H_
#define QUARRY_SERVICES_RUNTIME_CALL_GATE_H_

#include <chrono>
#include <condition_variable>
#include <mutex>

namespace quarry::runtime {

class CallGate {
 public:
  // Holds a place in the gate for one call; `admitted()` is false once the gate has closed.
  class Pass {
   public:
    explicit Pass(CallGate& gate);
    ~Pass();
    Pass(const Pass&) = delete;
    Pass& operator=(const Pass&) = delete;
    bool admitted() const { return admitted_; }

   private:
    CallGate& gate_;
    bool admitted_;
  };

  // Refuses calls from now on.
  void Close();

  // Waits until no admitted call is running or `timeout` passes; true when idle.
  bool WaitIdle(std::chrono::milliseconds timeout);

 private:
  std::mutex mu_;
  std::condition_variable idle_;
  bool closed_ = false;  // guarded by mu_
  int in_flight_ = 0;    // guarded by mu_
};

}  // namespace quarry::runtime

#endif  // QUARRY_SERVICES_RUNTIME_CALL_GATE_H_
