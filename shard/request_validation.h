// Checks of every request a shard receives, before anything is read or written. Each failure
// is INVALID_ARGUMENT with a message that names the offending field, e.g.
// "documents[2].chunks[0].vector has 64 values; this shard's dimension is 128".
#ifndef QUARRY_SHARD_REQUEST_VALIDATION_H_
#define QUARRY_SHARD_REQUEST_VALIDATION_H_

#include <cstddef>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "quarry/v1/shard.pb.h"
#include "shard/faiss_index.h"

namespace quarry::shard {

struct RequestLimits {
  int dimension = 0;
  Metric metric = Metric::kInnerProduct;
  int max_k = 1000;
  size_t max_documents = 10000;  // per upsert or delete
  size_t max_chunks = 100000;    // per upsert
  size_t max_chunk_text_bytes = 1 << 20;
  size_t max_id_bytes = 1024;         // document ids, tenants, groups, metadata keys
  size_t max_ids = 10000;             // chunk or document ids per read, filter values
  uint32_t max_search_param = 65536;  // nprobe, ef_search
};

// Tenants are 1 to 128 bytes of ASCII letters, digits and . _ - : @ (they appear in logs,
// keys and, through the router, in placement).
inline constexpr size_t kMaxTenantBytes = 128;
absl::Status ValidateTenant(absl::string_view tenant, absl::string_view field);

// A vector of the right dimension with finite components and, for "ip", a non-zero norm.
absl::Status ValidateVector(absl::Span<const float> vector, const RequestLimits& limits,
                            absl::string_view field);

absl::Status ValidateUpsert(const v1::UpsertRequest& request, const RequestLimits& limits);
absl::Status ValidateDelete(const v1::DeleteRequest& request, const RequestLimits& limits);
absl::Status ValidateSearch(const v1::SearchRequest& request, const RequestLimits& limits);
absl::Status ValidateGetChunks(const v1::GetChunksRequest& request, const RequestLimits& limits);

}  // namespace quarry::shard

#endif  // QUARRY_SHARD_REQUEST_VALIDATION_H_
