// tokenizer_bench: how fast Quarry's exact OpenAI tokenizers encode real text, measured against
// js-tiktoken on the same corpus in the same run.
//
// For each encoding, js-tiktoken (under Node.js) first encodes the corpus, times its own encode
// loop for --seconds of CPU time and hands back the corpus it read with its ids. Quarry's
// tokenizer then checks it gets the same ids and times its own loop over the same bytes. Rates
// are megabytes (10^6 bytes) of input per CPU second, so per core; English and Chinese are also
// shown apart for Quarry.
#include <time.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "services/text/js_tiktoken_reference.h"
#include "services/text/tokenizer.h"

namespace quarry::bench {
namespace {

double ThreadCpuSeconds() {
  timespec now;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
  return now.tv_sec + now.tv_nsec * 1e-9;
}

struct Rate {
  size_t bytes = 0;
  double cpu_seconds = 0;
  double MegabytesPerSecond() const { return cpu_seconds > 0 ? bytes / cpu_seconds / 1e6 : 0; }
};

// Encodes `documents` over and over until `seconds` of CPU time are spent.
Rate TimeQuarry(const text::Tokenizer& tokenizer,
                const std::vector<const text::ReferenceDocument*>& documents, double seconds) {
  Rate rate;
  size_t tokens = 0;
  while (rate.cpu_seconds < seconds) {
    const double start = ThreadCpuSeconds();
    for (const text::ReferenceDocument* document : documents) {
      tokens += tokenizer.Count(document->bytes);
      rate.bytes += document->bytes.size();
    }
    rate.cpu_seconds += ThreadCpuSeconds() - start;
  }
  if (tokens == 0) std::fprintf(stderr, "no tokens counted\n");
  return rate;
}

int Run(const std::vector<std::string>& encodings, double seconds, const std::string& work_dir) {
  std::filesystem::create_directories(work_dir);
  std::printf("%-12s %-10s %10s %12s %12s %8s\n", "encoding", "text", "MB", "quarry MB/s",
              "js MB/s", "ratio");
  for (const std::string& encoding : encodings) {
    absl::StatusOr<std::unique_ptr<text::Tokenizer>> tokenizer = text::Tokenizer::Create(encoding);
    if (!tokenizer.ok()) {
      std::fprintf(stderr, "%s\n", std::string(tokenizer.status().message()).c_str());
      return 2;
    }
    absl::StatusOr<text::JsTiktokenRun> run =
        text::JsTiktokenRun::Start({.encoding = encoding,
                                    .corpus = text::EnglishAndChineseCorpus(),
                                    .work_dir = work_dir,
                                    .timed_seconds = seconds});
    absl::StatusOr<text::ReferenceResult> reference =
        run.ok() ? run->Wait() : absl::StatusOr<text::ReferenceResult>(run.status());
    if (!reference.ok()) {
      std::fprintf(stderr, "%s\n", std::string(reference.status().message()).c_str());
      return 2;
    }

    std::vector<const text::ReferenceDocument*> all, english, chinese;
    size_t mismatches = 0, bytes = 0;
    for (const text::ReferenceDocument& document : reference->documents) {
      all.push_back(&document);
      (document.path.find("/man/zh_") != std::string::npos ? chinese : english)
          .push_back(&document);
      mismatches += (*tokenizer)->Encode(document.bytes) != document.ids;
      bytes += document.bytes.size();
    }
    if (mismatches > 0) {
      std::fprintf(stderr, "%s: %zu files tokenized differently from js-tiktoken\n",
                   encoding.c_str(), mismatches);
      return 1;
    }

    const Rate js{reference->timed_bytes, reference->timed_cpu_seconds};
    const Rate quarry_all = TimeQuarry(**tokenizer, all, seconds);
    std::printf("%-12s %-10s %10.2f %12.2f %12.2f %7.1fx\n", encoding.c_str(), "all", bytes / 1e6,
                quarry_all.MegabytesPerSecond(), js.MegabytesPerSecond(),
                quarry_all.MegabytesPerSecond() / js.MegabytesPerSecond());
    for (const auto& [name, documents] : {std::pair{"English", &english}, {"Chinese", &chinese}}) {
      size_t part_bytes = 0;
      for (const text::ReferenceDocument* document : *documents)
        part_bytes += document->bytes.size();
      const Rate quarry = TimeQuarry(**tokenizer, *documents, seconds / 2);
      std::printf("%-12s %-10s %10.2f %12.2f %12s %8s\n", encoding.c_str(), name, part_bytes / 1e6,
                  quarry.MegabytesPerSecond(), "", "");
    }
    std::fflush(stdout);
  }
  return 0;
}

}  // namespace
}  // namespace quarry::bench

int main(int argc, char** argv) {
  CLI::App app{"Encoding speed of Quarry's tokenizers against js-tiktoken on the same corpus"};
  std::vector<std::string> encodings = {"cl100k_base", "o200k_base"};
  double seconds = 5;
  std::string work_dir =
      (std::filesystem::temp_directory_path() / "quarry_tokenizer_bench").string();
  app.add_option("--encoding", encodings, "Encodings to measure")->capture_default_str();
  app.add_option("--seconds", seconds, "CPU seconds each timed loop runs")->capture_default_str();
  app.add_option("--work-dir", work_dir, "Where js-tiktoken's output goes")->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  return quarry::bench::Run(encodings, seconds, work_dir);
}
