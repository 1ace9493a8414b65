// Progress lines on stderr while the benchmark runs, so that stdout carries only the report.
#ifndef QUARRY_BENCH_PROGRESS_H_
#define QUARRY_BENCH_PROGRESS_H_

#include <chrono>
#include <cstdio>
#include <string>

namespace quarry::bench {

// Writes "[  12.3s] message" to stderr, timed from the first call.
inline void ReportProgress(const std::string& message) {
  static const std::chrono::steady_clock::time_point start = std::chrono::steady_clock::now();
  const double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::fprintf(stderr, "[%7.1fs] %s\n", elapsed, message.c_str());
}

}  // namespace quarry::bench

#endif  // QUARRY_BENCH_PROGRESS_H_
