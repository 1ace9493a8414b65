// How the benchmark lays its vectors out as shard documents: row r of the base set is chunk
// (r % chunks_per_document) of document "doc-<r / chunks_per_document>" in one tenant, so a
// search hit maps back to the row it came from without any table. Each chunk carries a
// synthetic passage of words picked pseudo-randomly from its row, so that its text costs the
// store what prose of that length would rather than compressing to nothing.
#ifndef QUARRY_BENCH_CORPUS_LAYOUT_H_
#define QUARRY_BENCH_CORPUS_LAYOUT_H_

#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"

namespace quarry::bench {

class CorpusLayout {
 public:
  // REQUIRES: chunks_per_document > 0.
  CorpusLayout(std::string tenant, int chunks_per_document);

  const std::string& tenant() const { return tenant_; }
  int chunks_per_document() const { return chunks_per_document_; }

  std::string DocumentId(size_t row) const;
  uint32_t Ordinal(size_t row) const;

  // About `bytes` bytes of words, the same for the same row.
  static std::string PassageText(size_t row, int bytes);

  // The base row a hit names, or -1 when the document id is not one of ours.
  int64_t RowOf(absl::string_view document_id, uint32_t ordinal) const;

 private:
  std::string tenant_;
  int chunks_per_document_;
};

}  // namespace quarry::bench

#endif  // QUARRY_BENCH_CORPUS_LAYOUT_H_
