// A closed-loop search load: a few worker threads each send one query, wait for its answer and
// send the next, for a fixed time, cycling through a query set. Used alike for the shard over
// gRPC and for FAISS in process, so that both are measured the same way.
#ifndef QUARRY_BENCH_SEARCH_LOAD_H_
#define QUARRY_BENCH_SEARCH_LOAD_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "bench/clustered_vectors.h"

namespace quarry::bench {

// Searches one query on behalf of worker `worker` (0 .. threads-1) and writes its k result
// labels, best first, -1 for none. Called concurrently from the workers.
using SearchFunction = std::function<absl::Status(int worker, const float* query, int64_t* labels)>;

struct SearchLoadOptions {
  int threads = 4;
  int k = 10;
  std::chrono::duration<double> duration{5.0};
};

struct SearchLoadResult {
  uint64_t completed = 0;       // queries answered within the timed window
  uint64_t answered_after = 0;  // queries answered after it, for recall only
  double seconds = 0;
  double qps = 0;
  // The answer to every query, queries.count * k labels; queries the timed window did not
  // reach are answered afterwards, untimed, so that recall always covers the whole set.
  std::vector<int64_t> labels;
};

// Each worker calls omp_set_num_threads(1) before it starts: concurrency comes from the
// workers, as it does in the shard. Fails with the first error a search returns.
absl::StatusOr<SearchLoadResult> RunSearchLoad(const VectorSet& queries,
                                               const SearchLoadOptions& options,
                                               const SearchFunction& search);

}  // namespace quarry::bench

#endif  // QUARRY_BENCH_SEARCH_LOAD_H_
