#include "bench/search_load.h"

#include <omp.h>

#include <atomic>
#include <mutex>
#include <thread>

namespace quarry::bench {

absl::StatusOr<SearchLoadResult> RunSearchLoad(const VectorSet& queries,
                                               const SearchLoadOptions& options,
                                               const SearchFunction& search) {
  using Clock = std::chrono::steady_clock;
  const size_t k = options.k;
  SearchLoadResult result;
  result.labels.assign(queries.count * k, -1);

  // Ticket i is query i % count; tickets below count write their answer into the result.
  std::atomic<uint64_t> next_ticket{0};
  std::atomic<uint64_t> completed{0};
  std::atomic<bool> failed{false};
  std::mutex error_mu;
  absl::Status error;
  auto record_error = [&](absl::Status status) {
    std::lock_guard lock(error_mu);
    if (error.ok()) error = std::move(status);
    failed = true;
  };

  const Clock::time_point start = Clock::now();
  const Clock::time_point stop =
      start + std::chrono::duration_cast<Clock::duration>(options.duration);
  std::vector<std::thread> workers;
  for (int w = 0; w < options.threads; ++w) {
    workers.emplace_back([&, w] {
      omp_set_num_threads(1);
      std::vector<int64_t> scratch(k);
      while (!failed && Clock::now() < stop) {
        const uint64_t ticket = next_ticket.fetch_add(1);
        const size_t query = ticket % queries.count;
        int64_t* labels = ticket < queries.count ? &result.labels[query * k] : scratch.data();
        absl::Status status = search(w, queries.row(query), labels);
        if (!status.ok()) {
          record_error(std::move(status));
          return;
        }
        ++completed;
      }
    });
  }
  for (std::thread& worker : workers) worker.join();
  result.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  if (!error.ok()) return error;
  result.completed = completed;
  result.qps = static_cast<double>(result.completed) / result.seconds;

  // Answer the queries the window did not reach, for recall, one at a time like the workers.
  const int caller_threads = omp_get_max_threads();
  omp_set_num_threads(1);
  for (uint64_t ticket = next_ticket; ticket < queries.count && error.ok(); ++ticket) {
    error = search(0, queries.row(ticket), &result.labels[ticket * k]);
    ++result.answered_after;
  }
  omp_set_num_threads(caller_threads);
  if (!error.ok()) return error;
  return result;
}

}  // namespace quarry::bench
