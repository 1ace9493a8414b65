#include "bench/corpus_layout.h"

#include <iterator>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace quarry::bench {
namespace {

constexpr absl::string_view kDocumentPrefix = "doc-";

constexpr absl::string_view kWords[] = {
    "shard",  "index",   "vector", "query",    "recall", "cluster",  "latency", "replica",
    "tenant", "segment", "merge",  "search",   "commit", "durable",  "memory",  "snapshot",
    "graph",  "probe",   "list",   "centroid", "score",  "document", "chunk",   "token",
    "the",    "of",      "and",    "a",        "to",     "in",       "is",      "for"};

}  // namespace

CorpusLayout::CorpusLayout(std::string tenant, int chunks_per_document)
    : tenant_(std::move(tenant)), chunks_per_document_(chunks_per_document) {}

std::string CorpusLayout::DocumentId(size_t row) const {
  return absl::StrCat(kDocumentPrefix, row / chunks_per_document_);
}

uint32_t CorpusLayout::Ordinal(size_t row) const {
  return static_cast<uint32_t>(row % chunks_per_document_);
}

std::string CorpusLayout::PassageText(size_t row, int bytes) {
  std::string text;
  text.reserve(bytes + 16);
  uint64_t state = row * 0x9e3779b97f4a7c15ULL + 1;
  while (static_cast<int>(text.size()) < bytes) {
    // xorshift64: cheap, and deterministic per row.
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    if (!text.empty()) text.push_back(' ');
    absl::StrAppend(&text, kWords[state % std::size(kWords)]);
  }
  text.resize(bytes);
  return text;
}

int64_t CorpusLayout::RowOf(absl::string_view document_id, uint32_t ordinal) const {
  int64_t document = 0;
  if (!absl::ConsumePrefix(&document_id, kDocumentPrefix) ||
      !absl::SimpleAtoi(document_id, &document) || document < 0 ||
      ordinal >= static_cast<uint32_t>(chunks_per_document_)) {
    return -1;
  }
  return document * chunks_per_document_ + ordinal;
}

}  // namespace quarry::bench
