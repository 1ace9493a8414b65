#include "shard/request_validation.h"

#include <cmath>
#include <string>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

namespace quarry::shard {
namespace {

absl::Status Invalid(absl::string_view field, absl::string_view problem) {
  return absl::InvalidArgumentError(absl::StrCat(field, " ", problem));
}

// Names, ids and labels: present, bounded, and free of NUL (the store's key separator).
absl::Status ValidateName(absl::string_view value, const RequestLimits& limits,
                          absl::string_view field) {
  if (value.empty()) return Invalid(field, "is empty");
  if (value.size() > limits.max_id_bytes) {
    return Invalid(field,
                   absl::StrCat("is ", value.size(), " bytes; the limit is ", limits.max_id_bytes));
  }
  if (value.find('\0') != absl::string_view::npos) return Invalid(field, "contains a NUL byte");
  return absl::OkStatus();
}

absl::Status ValidatePrincipal(const v1::Principal& principal, const RequestLimits& limits) {
  absl::Status status = ValidateTenant(principal.tenant(), "principal.tenant");
  if (!status.ok()) return status;
  if (static_cast<size_t>(principal.groups_size()) > limits.max_ids) {
    return Invalid("principal.groups", absl::StrCat("has more than ", limits.max_ids, " groups"));
  }
  return absl::OkStatus();
}

absl::Status ValidateMetadata(const google::protobuf::Map<std::string, v1::MetadataValue>& map,
                              const RequestLimits& limits, absl::string_view field) {
  for (const auto& [key, value] : map) {
    absl::Status status = ValidateName(key, limits, absl::StrCat(field, " key"));
    if (!status.ok()) return status;
    if (value.kind_case() == v1::MetadataValue::kNumber && !std::isfinite(value.number())) {
      return Invalid(absl::StrCat(field, "[\"", key, "\"]"), "is not a finite number");
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateFilter(const v1::Filter& filter, const RequestLimits& limits) {
  for (int i = 0; i < filter.metadata_size(); ++i) {
    const v1::MetadataMatch& match = filter.metadata(i);
    std::string field = absl::StrCat("filter.metadata[", i, "]");
    absl::Status status = ValidateName(match.key(), limits, field + ".key");
    if (!status.ok()) return status;
    if (match.values().empty()) return Invalid(field + ".values", "is empty");
    if (static_cast<size_t>(match.values_size()) > limits.max_ids) {
      return Invalid(field + ".values", absl::StrCat("has more than ", limits.max_ids));
    }
  }
  for (int i = 0; i < filter.ranges_size(); ++i) {
    const v1::NumericRange& range = filter.ranges(i);
    std::string field = absl::StrCat("filter.ranges[", i, "]");
    absl::Status status = ValidateName(range.key(), limits, field + ".key");
    if (!status.ok()) return status;
    if ((range.has_min() && std::isnan(range.min())) ||
        (range.has_max() && std::isnan(range.max()))) {
      return Invalid(field, "has a NaN bound");
    }
    if (range.has_min() && range.has_max() && range.min() > range.max()) {
      return Invalid(field, absl::StrCat("has min ", range.min(), " above max ", range.max()));
    }
  }
  if (static_cast<size_t>(filter.doc_ids_size()) > limits.max_ids) {
    return Invalid("filter.doc_ids", absl::StrCat("has more than ", limits.max_ids, " ids"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ValidateTenant(absl::string_view tenant, absl::string_view field) {
  if (tenant.empty()) return Invalid(field, "is missing");
  if (tenant.size() > kMaxTenantBytes) {
    return Invalid(field,
                   absl::StrCat("is ", tenant.size(), " bytes; the limit is ", kMaxTenantBytes));
  }
  for (char c : tenant) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_' && c != '-' &&
        c != ':' && c != '@') {
      return Invalid(field, absl::StrCat("'", absl::CHexEscape(tenant),
                                         "' may hold only letters, digits and . _ - : @"));
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateVector(absl::Span<const float> vector, const RequestLimits& limits,
                            absl::string_view field) {
  if (vector.empty()) return Invalid(field, "is missing");
  if (static_cast<int>(vector.size()) != limits.dimension) {
    return Invalid(field, absl::StrCat("has ", vector.size(), " values; this shard's dimension is ",
                                       limits.dimension));
  }
  double norm = 0;
  for (size_t i = 0; i < vector.size(); ++i) {
    if (!std::isfinite(vector[i])) {
      return Invalid(field, absl::StrCat("has a non-finite value at [", i, "]"));
    }
    norm += static_cast<double>(vector[i]) * vector[i];
  }
  if (limits.metric == Metric::kInnerProduct && norm == 0) {
    return Invalid(field, "is all zeros and cannot be normalised for cosine similarity");
  }
  return absl::OkStatus();
}

absl::Status ValidateUpsert(const v1::UpsertRequest& request, const RequestLimits& limits) {
  if (request.documents().empty()) return Invalid("documents", "is empty");
  if (static_cast<size_t>(request.documents_size()) > limits.max_documents) {
    return Invalid("documents",
                   absl::StrCat("has ", request.documents_size(),
                                " entries; the limit per request is ", limits.max_documents));
  }
  absl::flat_hash_set<std::pair<std::string, std::string>> seen;
  size_t total_chunks = 0;
  for (int d = 0; d < request.documents_size(); ++d) {
    const v1::DocumentChunks& entry = request.documents(d);
    const v1::Document& doc = entry.document();
    std::string field = absl::StrCat("documents[", d, "]");
    absl::Status status = ValidateTenant(doc.tenant(), field + ".document.tenant");
    if (status.ok()) status = ValidateName(doc.id(), limits, field + ".document.id");
    if (status.ok())
      status = ValidateMetadata(doc.metadata(), limits, field + ".document.metadata");
    if (!status.ok()) return status;
    for (int g = 0; g < doc.acl_groups_size(); ++g) {
      status = ValidateName(doc.acl_groups(g), limits,
                            absl::StrCat(field, ".document.acl_groups[", g, "]"));
      if (!status.ok()) return status;
    }
    if (!seen.insert({doc.tenant(), doc.id()}).second) {
      return Invalid(field + ".document.id",
                     absl::StrCat("'", doc.id(), "' appears twice in one request"));
    }

    total_chunks += entry.chunks_size();
    if (total_chunks > limits.max_chunks) {
      return Invalid("documents", absl::StrCat("hold more than ", limits.max_chunks,
                                               " chunks; split the request"));
    }
    absl::flat_hash_set<uint32_t> ordinals;
    for (int c = 0; c < entry.chunks_size(); ++c) {
      const v1::Chunk& chunk = entry.chunks(c);
      std::string chunk_field = absl::StrCat(field, ".chunks[", c, "]");
      if (!ordinals.insert(chunk.ordinal()).second) {
        return Invalid(chunk_field + ".ordinal",
                       absl::StrCat(chunk.ordinal(), " appears twice in the document"));
      }
      if (!chunk.doc_id().empty() && chunk.doc_id() != doc.id()) {
        return Invalid(chunk_field + ".doc_id", "differs from the document's id");
      }
      if (!chunk.tenant().empty() && chunk.tenant() != doc.tenant()) {
        return Invalid(chunk_field + ".tenant", "differs from the document's tenant");
      }
      if (chunk.text().size() > limits.max_chunk_text_bytes) {
        return Invalid(chunk_field + ".text",
                       absl::StrCat("is ", chunk.text().size(), " bytes; the limit is ",
                                    limits.max_chunk_text_bytes));
      }
      status = ValidateVector(chunk.vector(), limits, chunk_field + ".vector");
      if (status.ok())
        status = ValidateMetadata(chunk.metadata(), limits, chunk_field + ".metadata");
      if (!status.ok()) return status;
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateDelete(const v1::DeleteRequest& request, const RequestLimits& limits) {
  absl::Status status = ValidateTenant(request.tenant(), "tenant");
  if (!status.ok()) return status;
  if (request.doc_ids().empty()) return Invalid("doc_ids", "is empty");
  if (static_cast<size_t>(request.doc_ids_size()) > limits.max_documents) {
    return Invalid("doc_ids", absl::StrCat("has more than ", limits.max_documents, " ids"));
  }
  absl::flat_hash_set<absl::string_view> seen;
  for (int i = 0; i < request.doc_ids_size(); ++i) {
    std::string field = absl::StrCat("doc_ids[", i, "]");
    status = ValidateName(request.doc_ids(i), limits, field);
    if (!status.ok()) return status;
    if (!seen.insert(request.doc_ids(i)).second) {
      return Invalid(field, absl::StrCat("'", request.doc_ids(i), "' appears twice"));
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateSearch(const v1::SearchRequest& request, const RequestLimits& limits) {
  absl::Status status = ValidatePrincipal(request.principal(), limits);
  if (!status.ok()) return status;
  if (request.k() == 0 || request.k() > static_cast<uint32_t>(limits.max_k)) {
    return Invalid("k", absl::StrCat("is ", request.k(), "; it must be from 1 to ", limits.max_k));
  }
  status = ValidateVector(request.vector(), limits, "vector");
  if (!status.ok()) return status;
  if (request.params().nprobe() > limits.max_search_param) {
    return Invalid("params.nprobe", absl::StrCat("is above ", limits.max_search_param));
  }
  if (request.params().ef_search() > limits.max_search_param) {
    return Invalid("params.ef_search", absl::StrCat("is above ", limits.max_search_param));
  }
  return ValidateFilter(request.filter(), limits);
}

absl::Status ValidateGetChunks(const v1::GetChunksRequest& request, const RequestLimits& limits) {
  absl::Status status = ValidatePrincipal(request.principal(), limits);
  if (!status.ok()) return status;
  if (request.chunk_ids().empty() && request.doc_ids().empty()) {
    return Invalid("chunk_ids and doc_ids", "are both empty");
  }
  if (static_cast<size_t>(request.chunk_ids_size() + request.doc_ids_size()) > limits.max_ids) {
    return Invalid("chunk_ids and doc_ids", absl::StrCat("name more than ", limits.max_ids));
  }
  for (int i = 0; i < request.doc_ids_size(); ++i) {
    status = ValidateName(request.doc_ids(i), limits, absl::StrCat("doc_ids[", i, "]"));
    if (!status.ok()) return status;
  }
  return absl::OkStatus();
}

}  // namespace quarry::shard
