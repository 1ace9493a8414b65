#include "bench/ingest.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "quarry/v1/shard.grpc.pb.h"

namespace quarry::bench {
namespace {

using Clock = std::chrono::steady_clock;

// The request carrying rows [begin, end); documents never straddle two requests because a
// request holds whole documents.
v1::UpsertRequest MakeRequest(const VectorSet& base, const CorpusLayout& layout, size_t begin,
                              size_t end, int text_bytes) {
  v1::UpsertRequest request;
  v1::DocumentChunks* entry = nullptr;
  for (size_t row = begin; row < end; ++row) {
    if (entry == nullptr || layout.Ordinal(row) == 0) {
      entry = request.add_documents();
      entry->mutable_document()->set_id(layout.DocumentId(row));
      entry->mutable_document()->set_tenant(layout.tenant());
    }
    v1::Chunk* chunk = entry->add_chunks();
    chunk->set_ordinal(layout.Ordinal(row));
    chunk->mutable_vector()->Add(base.row(row), base.row(row) + base.dimension);
    chunk->set_text(CorpusLayout::PassageText(row, text_bytes));
  }
  return request;
}

double Percentile(std::vector<double>& values, double fraction) {
  if (values.empty()) return 0;
  const size_t index =
      std::min(values.size() - 1, static_cast<size_t>(fraction * (values.size() - 1) + 0.5));
  std::nth_element(values.begin(), values.begin() + index, values.end());
  return values[index];
}

}  // namespace

absl::StatusOr<IngestResult> IngestVectors(const ShardProcess& shard, const VectorSet& base,
                                           const CorpusLayout& layout,
                                           const IngestOptions& options) {
  const size_t rows_per_request =
      static_cast<size_t>(options.documents_per_request) * layout.chunks_per_document();
  const size_t requests = (base.count + rows_per_request - 1) / rows_per_request;

  absl::StatusOr<std::vector<std::unique_ptr<v1::Shard::Stub>>> stubs =
      shard.ConnectClients(options.threads);
  if (!stubs.ok()) return stubs.status();

  std::atomic<size_t> next_request{0};
  std::atomic<bool> failed{false};
  std::mutex mu;
  absl::Status error;
  std::vector<double> latencies_ms;
  latencies_ms.reserve(requests);

  const Clock::time_point start = Clock::now();
  std::vector<std::thread> workers;
  for (int t = 0; t < options.threads; ++t) {
    workers.emplace_back([&, t] {
      std::vector<double> mine;
      size_t r;
      while (!failed && (r = next_request.fetch_add(1)) < requests) {
        const size_t begin = r * rows_per_request;
        v1::UpsertRequest request =
            MakeRequest(base, layout, begin, std::min(base.count, begin + rows_per_request),
                        options.text_bytes);
        v1::UpsertResponse response;
        grpc::ClientContext context;
        context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
        const Clock::time_point sent = Clock::now();
        grpc::Status status = (*stubs)[t]->Upsert(&context, request, &response);
        mine.push_back(std::chrono::duration<double, std::milli>(Clock::now() - sent).count());
        if (!status.ok()) {
          std::lock_guard lock(mu);
          if (error.ok()) {
            error = absl::InternalError(absl::StrCat("Upsert failed: ", status.error_message()));
          }
          failed = true;
        }
      }
      std::lock_guard lock(mu);
      latencies_ms.insert(latencies_ms.end(), mine.begin(), mine.end());
    });
  }
  for (std::thread& worker : workers) worker.join();
  if (!error.ok()) return error;

  IngestResult result;
  result.vectors = base.count;
  result.requests = requests;
  result.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  result.vectors_per_second = static_cast<double>(base.count) / result.seconds;
  result.p50_ms = Percentile(latencies_ms, 0.50);
  result.p99_ms = Percentile(latencies_ms, 0.99);
  return result;
}

}  // namespace quarry::bench
