// What every phase of shard_bench shares: where the shard binary and scratch space are, and
// how loads are shaped. Filled in once from the command line.
#ifndef QUARRY_BENCH_BENCH_CONFIG_H_
#define QUARRY_BENCH_BENCH_CONFIG_H_

#include <chrono>
#include <cstddef>
#include <string>

#include "bench/corpus_layout.h"
#include "bench/ingest.h"

namespace quarry::bench {

struct BenchConfig {
  std::string quarry_binary;
  std::string run_dir;  // scratch space; each shard gets a data directory inside it
  int dimension = 128;
  int k = 10;
  int search_threads = 4;
  std::chrono::duration<double> measure_time{5.0};     // per search measurement
  std::chrono::duration<double> index_timeout{900.0};  // to train and drain the write buffer
  size_t train_min = 40000;  // vectors before an IVF index trains, in the shard and in process
  IngestOptions ingest;
  CorpusLayout layout{"bench", 8};
};

}  // namespace quarry::bench

#endif  // QUARRY_BENCH_BENCH_CONFIG_H_
