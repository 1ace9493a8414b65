// answer_bench: how long the answer service takes to assemble a prompt, from 50 candidate
// passages into an 8,000-token budget, measured against counting the tokens of the same 50
// passages once, in the same run.
//
// Passages are real: the PostgreSQL manual's HTML pages, extracted and chunked to about 300
// tokens as `quarry ingest` does. Each run takes the next 50 passages of that pool (so the
// tokenizer's piece caches see new text, as they do under real queries) and packs them with
// the full pipeline: near-duplicate shingles, rank-order packing with sentence cuts, and the
// exact count of the finished prompt. Latency is wall time per run on one thread.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "services/answer/chat_format.h"
#include "services/answer/prompt_packer.h"
#include "services/answer/prompt_template.h"
#include "services/text/chunker.h"
#include "services/text/document_extractor.h"
#include "services/text/tokenizer.h"

namespace quarry::bench {
namespace {

using Clock = std::chrono::steady_clock;

constexpr size_t kCandidates = 50;
constexpr size_t kBudget = 8000;

struct Latency {
  double p50_ms = 0;
  double p99_ms = 0;
  double max_ms = 0;
};

Latency Summarise(std::vector<double> samples) {
  std::sort(samples.begin(), samples.end());
  auto at = [&](double q) { return samples[static_cast<size_t>(q * (samples.size() - 1))]; };
  return {at(0.50), at(0.99), samples.back()};
}

// Passages of about 300 tokens from the HTML pages under `docs`, at most `limit` of them.
std::vector<answer::Passage> LoadPassages(const std::string& docs, const text::Tokenizer& tokenizer,
                                          size_t limit) {
  std::vector<std::string> files;
  for (const auto& entry : std::filesystem::directory_iterator(docs)) {
    if (entry.path().extension() == ".html") files.push_back(entry.path().string());
  }
  std::sort(files.begin(), files.end());
  const text::Chunker chunker(&tokenizer, {300, 50});
  std::vector<answer::Passage> passages;
  for (const std::string& file : files) {
    absl::StatusOr<text::ExtractedDocument> document = text::ExtractFile(file, {});
    if (!document.ok()) continue;
    for (text::TextChunk& chunk : chunker.Chunk(document->blocks)) {
      const float score = 1.0f - static_cast<float>(passages.size() % kCandidates) * 0.01f;
      passages.push_back(
          {file, passages.size(), document->title, file, std::move(chunk.text), score});
      if (passages.size() == limit) return passages;
    }
  }
  return passages;
}

int Run(const std::string& docs, const std::string& encoding, int runs, size_t pool) {
  absl::StatusOr<std::unique_ptr<text::Tokenizer>> tokenizer = text::Tokenizer::Create(encoding);
  if (!tokenizer.ok()) {
    std::fprintf(stderr, "%s\n", std::string(tokenizer.status().message()).c_str());
    return 1;
  }
  const std::vector<answer::Passage> passages = LoadPassages(docs, **tokenizer, pool);
  if (passages.size() < kCandidates) {
    std::fprintf(stderr, "only %zu passages under %s; need %zu\n", passages.size(), docs.c_str(),
                 kCandidates);
    return 1;
  }
  std::printf("%zu passages from %s; %d runs of %zu candidates into %zu tokens (%s)\n\n",
              passages.size(), docs.c_str(), runs, kCandidates, kBudget, encoding.c_str());

  const answer::PromptTemplate prompt_template;
  answer::PackingOptions with_mmr;
  with_mmr.mmr = true;
  const answer::PromptPacker packer(&prompt_template, {});
  const answer::PromptPacker mmr_packer(&prompt_template, with_mmr);
  const std::string question = "How do I stop autovacuum from blocking a long-running ALTER TABLE?";

  std::vector<double> baseline, pack, pack_mmr, recount;
  size_t used = 0, prompt_tokens = 0, checksum = 0;
  for (int run = 0; run < runs; ++run) {
    const size_t first = (static_cast<size_t>(run) * kCandidates) % (passages.size() - kCandidates);
    const std::vector<answer::Passage> candidates(passages.begin() + first,
                                                  passages.begin() + first + kCandidates);

    auto start = Clock::now();
    for (const answer::Passage& passage : candidates) checksum += (*tokenizer)->Count(passage.text);
    baseline.push_back(std::chrono::duration<double, std::milli>(Clock::now() - start).count());

    for (const answer::PromptPacker* p : {&packer, &mmr_packer}) {
      start = Clock::now();
      absl::StatusOr<answer::PackedPrompt> packed =
          p->Pack(**tokenizer, question, candidates, kBudget);
      const double ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
      if (!packed.ok() || packed->prompt_tokens > kBudget) {
        std::fprintf(stderr, "packing failed: %s\n", packed.status().ToString().c_str());
        return 1;
      }
      (p == &packer ? pack : pack_mmr).push_back(ms);
      if (p == &packer) {
        start = Clock::now();
        checksum += answer::CountChatTokens(**tokenizer, packed->messages);
        recount.push_back(std::chrono::duration<double, std::milli>(Clock::now() - start).count());
        used += packed->sources.size();
        prompt_tokens += packed->prompt_tokens;
      }
    }
  }

  std::printf("%-44s %9s %9s %9s\n", "", "p50 ms", "p99 ms", "max ms");
  for (const auto& [name, samples] :
       {std::pair<const char*, std::vector<double>*>{"baseline: count 50 passages once", &baseline},
        {"pack 50 passages into 8000 tokens", &pack},
        {"pack 50 passages into 8000 tokens, MMR", &pack_mmr},
        {"count the packed prompt once more", &recount}}) {
    const Latency latency = Summarise(*samples);
    std::printf("%-44s %9.3f %9.3f %9.3f\n", name, latency.p50_ms, latency.p99_ms, latency.max_ms);
  }
  std::printf("\nmean passages packed %.1f, mean prompt tokens %.0f (checksum %zu)\n",
              static_cast<double>(used) / runs, static_cast<double>(prompt_tokens) / runs,
              checksum);
  return 0;
}

}  // namespace
}  // namespace quarry::bench

int main(int argc, char** argv) {
  CLI::App app{"Prompt assembly latency: 50 candidate passages into an 8,000-token budget"};
  std::string docs = "/usr/share/doc/postgresql-doc-15/html";
  std::string encoding = "o200k_base";
  int runs = 2000;
  size_t pool = 20000;
  app.add_option("--docs", docs, "Folder of HTML pages to take passages from")
      ->capture_default_str();
  app.add_option("--encoding", encoding, "cl100k_base or o200k_base")->capture_default_str();
  app.add_option("--runs", runs, "Prompts to assemble")->capture_default_str();
  app.add_option("--pool", pool, "Most passages to load")->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  return quarry::bench::Run(docs, encoding, runs, pool);
}
