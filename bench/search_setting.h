// One point of a recall/QPS curve: the per-search knob of an ANN index (0 leaves it alone).
#ifndef QUARRY_BENCH_SEARCH_SETTING_H_
#define QUARRY_BENCH_SEARCH_SETTING_H_

#include <string>

#include "absl/strings/str_cat.h"

namespace quarry::bench {

struct SearchSetting {
  int nprobe = 0;     // IVF: inverted lists visited
  int ef_search = 0;  // HNSW: candidate list size

  // "nprobe=16", "efSearch=64" or "exact".
  std::string Describe() const {
    if (nprobe > 0) return absl::StrCat("nprobe=", nprobe);
    if (ef_search > 0) return absl::StrCat("efSearch=", ef_search);
    return "exact";
  }
};

}  // namespace quarry::bench

#endif  // QUARRY_BENCH_SEARCH_SETTING_H_
