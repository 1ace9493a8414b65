// Drives a gRPC service with asynchronous calls and measures their latency, in one of two
// shapes:
//   - closed loop: `concurrency` callers, each sending its next request when the previous one
//     is answered; the service sets the pace, as a fixed pool of clients would see it.
//   - open loop: requests arrive at a fixed rate (Poisson or evenly spaced) whatever the
//     service does, as independent users would send them. Latency is measured from the time
//     a request was due to be sent, not from when it was sent, so that a stalled service or
//     a lagging sender shows in the percentiles instead of being left out (coordinated
//     omission).
// Calls due in the warm-up are sent but not measured; the measured window lasts `duration`.
//
// Thread-safety: RunLoad blocks until every call it started has completed; the StartCall
// function is invoked from the calling thread and from gRPC's callback threads.
#ifndef QUARRY_BENCH_LOAD_GENERATOR_H_
#define QUARRY_BENCH_LOAD_GENERATOR_H_

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <string>

#include "absl/status/statusor.h"
#include "bench/latency_histogram.h"

namespace quarry::bench {

// Reports how one call ended; may be called from any thread.
using CallDone = std::function<void(const grpc::Status&)>;
// Starts call number `sequence` (0, 1, ... across the run) without blocking, and calls `done`
// exactly once when it ends.
using StartCall = std::function<void(uint64_t sequence, CallDone done)>;

enum class LoadMode { kClosedLoop, kOpenLoop };
enum class ArrivalProcess { kPoisson, kFixedInterval };

struct LoadOptions {
  LoadMode mode = LoadMode::kClosedLoop;
  int concurrency = 4;  // closed loop: callers
  double rate = 100;    // open loop: requests per second
  ArrivalProcess arrivals = ArrivalProcess::kPoisson;
  int max_in_flight = 4096;  // open loop: the sender waits beyond this
  std::chrono::duration<double> warmup{2.0};
  std::chrono::duration<double> duration{10.0};
  uint64_t seed = 1;  // of the Poisson arrivals
  // When nonzero, no more than this many calls are sent, warm-up included, and the measured
  // window ends with the last of them (e.g. to load a fixed number of documents).
  uint64_t max_calls = 0;
};

struct LoadResult {
  LatencyHistogram latency;  // of the calls due in the measured window that succeeded
  uint64_t succeeded = 0;
  uint64_t failed = 0;
  std::map<grpc::StatusCode, uint64_t> failures_by_code;
  uint64_t warmup_calls = 0;
  double seconds = 0;  // the measured window, shorter when max_calls ended it
  // Calls that completed, succeeded or not, within the window, per second: the throughput,
  // below the intended rate when an open loop overloads the service.
  double achieved_rate = 0;
  double intended_rate = 0;  // open loop: the rate asked for; closed loop: 0
};

absl::StatusOr<LoadResult> RunLoad(const LoadOptions& options, const StartCall& start_call);

// "UNAVAILABLE", "DEADLINE_EXCEEDED", ...
std::string StatusCodeName(grpc::StatusCode code);

}  // namespace quarry::bench

#endif  // QUARRY_BENCH_LOAD_GENERATOR_H_
