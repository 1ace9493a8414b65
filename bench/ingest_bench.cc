// ingest_bench: a document set (by default the PostgreSQL 15 manual, ~1,170 HTML pages) end to
// end into a cluster of real processes with the hash embedder, and where the time goes.
//
// One run measures, on the same files:
//   1. each stage alone, in this process, on one core: extraction, chunking (tokenizing and
//      cutting), and embedding the chunks with the hash embedder;
//   2. `quarry ingest` of the whole set into a fresh cluster (N shards, 1 replica each, the
//      router embedding with `hash`): files/s and MB/s of source bytes;
//   3. `quarry ingest` of the same set again, which skips every file by content hash.
// The time of durable writes and RPCs is what the end-to-end run spent beyond the three stages
// (the CLI sends a batch and waits for it, so the stages run one after another).
#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "services/embed/hash_embedder.h"
#include "services/text/chunker.h"
#include "services/text/document_extractor.h"
#include "services/text/tokenizer.h"
#include "tests/test_cluster.h"

namespace quarry::bench {
namespace {

using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;

struct Flags {
  std::string docs = "/usr/share/doc/postgresql-doc-15/html";
  int shards = 3;
  int dimension = 384;
  std::string spec = "HNSW32";
  std::string out;
};

double Since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

struct StageTimes {
  size_t files = 0;
  size_t failed = 0;
  uint64_t bytes = 0;
  size_t chunks = 0;
  uint64_t tokens = 0;
  double extract_s = 0;
  double chunk_s = 0;
  double embed_s = 0;
};

StageTimes MeasureStages(const std::vector<std::string>& files, int dimension) {
  StageTimes times;
  absl::StatusOr<std::unique_ptr<text::Tokenizer>> tokenizer =
      text::Tokenizer::Create("cl100k_base");
  if (!tokenizer.ok()) {
    std::cerr << tokenizer.status() << "\n";
    std::exit(1);
  }
  text::Chunker chunker(tokenizer->get(), {});
  embed::HashEmbedder embedder(dimension);
  for (const std::string& path : files) {
    std::error_code error;
    times.bytes += fs::file_size(path, error);
    ++times.files;
    Clock::time_point start = Clock::now();
    absl::StatusOr<text::ExtractedDocument> doc = text::ExtractFile(path, {});
    times.extract_s += Since(start);
    if (!doc.ok()) {
      ++times.failed;
      continue;
    }
    start = Clock::now();
    std::vector<text::TextChunk> chunks = chunker.Chunk(doc->blocks);
    times.chunk_s += Since(start);
    std::vector<std::string> texts;
    for (text::TextChunk& chunk : chunks) {
      times.tokens += chunk.token_count;
      texts.push_back(std::move(chunk.text));
    }
    times.chunks += texts.size();
    start = Clock::now();
    absl::StatusOr<std::vector<std::vector<float>>> vectors = embedder.Embed(texts);
    times.embed_s += Since(start);
    if (!vectors.ok()) ++times.failed;
  }
  return times;
}

struct IngestRun {
  int exit_code = -1;
  double seconds = 0;
  std::string summary;
};

IngestRun RunIngest(const Flags& flags, testing::TestCluster& cluster) {
  IngestRun run;
  const Clock::time_point start = Clock::now();
  testing::CommandResult result = testing::RunQuarry(
      {"ingest", flags.docs, "--router", cluster.router().address()}, std::chrono::hours(2));
  run.seconds = Since(start);
  run.exit_code = result.exit_code;
  run.summary = result.out.substr(0, result.out.find('\n'));
  if (result.exit_code != 0) std::cerr << result.err;
  return run;
}

int Main(const Flags& flags) {
  if (!fs::is_directory(flags.docs)) {
    std::cerr << "ingest_bench: " << flags.docs << " is not a folder (install postgresql-doc-15)\n";
    return 2;
  }
  std::vector<std::string> files;
  for (const auto& entry : fs::recursive_directory_iterator(flags.docs)) {
    if (entry.is_regular_file()) files.push_back(entry.path().string());
  }

  std::cerr << "stages on " << files.size() << " files...\n";
  const StageTimes stages = MeasureStages(files, flags.dimension);

  std::cerr << "cluster: " << flags.shards << " shards (" << flags.spec << ")...\n";
  testing::TestCluster cluster(flags.shards, 1, flags.dimension, flags.spec);
  if (absl::Status started = cluster.Start(); !started.ok()) {
    std::cerr << started << "\n";
    return 1;
  }
  std::cerr << "quarry ingest...\n";
  const IngestRun first = RunIngest(flags, cluster);
  std::cerr << "quarry ingest again (unchanged)...\n";
  const IngestRun again = RunIngest(flags, cluster);

  const double mb = stages.bytes / 1e6;
  const double stage_total = stages.extract_s + stages.chunk_s + stages.embed_s;
  const double rest = std::max(0.0, first.seconds - stage_total);
  std::string report;
  report += absl::StrFormat("# Ingest: %s\n\n", flags.docs);
  report += absl::StrFormat(
      "%zu files, %.1f MB of source, %zu chunks, %u tokens (cl100k_base, 300-token chunks, "
      "50 overlap); %d shards `%s`, dimension %d, hash embedder.\n\n",
      stages.files, mb, stages.chunks, stages.tokens, flags.shards, flags.spec, flags.dimension);
  report += "| run | seconds | files/s | MB/s | result |\n| --- | ---: | ---: | ---: | --- |\n";
  report += absl::StrFormat("| `quarry ingest` (fresh cluster) | %.2f | %.1f | %.2f | %s |\n",
                            first.seconds, stages.files / first.seconds, mb / first.seconds,
                            first.summary);
  report += absl::StrFormat("| again, all unchanged | %.2f | %.1f | %.2f | %s |\n\n", again.seconds,
                            stages.files / again.seconds, mb / again.seconds, again.summary);
  report += "Where the time of the first run goes (stages measured alone, one core):\n\n";
  report += "| stage | seconds | share | MB/s of source |\n| --- | ---: | ---: | ---: |\n";
  auto row = [&](const char* name, double seconds) {
    report += absl::StrFormat("| %s | %.2f | %.0f%% | %.1f |\n", name, seconds,
                              100 * seconds / first.seconds, mb / seconds);
  };
  row("extraction (HTML parsing, UTF-8)", stages.extract_s);
  row("chunking (tokenizing, cutting)", stages.chunk_s);
  row("embedding (hash, in the router)", stages.embed_s);
  row("writes and RPCs (the rest: durable RocksDB writes, index buffer, gRPC)", rest);
  std::cout << report;
  if (!flags.out.empty()) std::ofstream(flags.out) << report;
  return first.exit_code == 0 && again.exit_code == 0 ? 0 : 1;
}

}  // namespace
}  // namespace quarry::bench

int main(int argc, char** argv) {
  quarry::bench::Flags flags;
  CLI::App app("End-to-end ingest of a document set through `quarry ingest`");
  app.add_option("--docs", flags.docs, "Folder of documents")->capture_default_str();
  app.add_option("--shards", flags.shards, "Shards in the cluster")->capture_default_str();
  app.add_option("--dim", flags.dimension, "Vector dimension")->capture_default_str();
  app.add_option("--index", flags.spec, "FAISS index spec of the shards")->capture_default_str();
  app.add_option("--out", flags.out, "Also write the Markdown report here");
  CLI11_PARSE(app, argc, argv);
  if (std::getenv("QUARRY_BIN") == nullptr) setenv("QUARRY_BIN", QUARRY_DEFAULT_BINARY, 1);
  return quarry::bench::Main(flags);
}
