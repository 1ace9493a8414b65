// CPU time consumed by a process, to tell how much of a search's cost falls on the shard and
// how much on its clients.
#ifndef QUARRY_BENCH_CPU_TIME_H_
#define QUARRY_BENCH_CPU_TIME_H_

#include <sys/types.h>

#include "absl/status/statusor.h"

namespace quarry::bench {

// User plus system CPU seconds of this process so far, all threads.
double OwnCpuSeconds();

// The same for another process, from /proc/<pid>/stat.
absl::StatusOr<double> ProcessCpuSeconds(pid_t pid);

}  // namespace quarry::bench

#endif  // QUARRY_BENCH_CPU_TIME_H_
