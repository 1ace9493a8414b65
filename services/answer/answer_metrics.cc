#include "services/answer/answer_metrics.h"

#include <string>

#include "absl/strings/ascii.h"

namespace quarry::answer {
namespace {

prometheus::Histogram::BucketBoundaries Geometric(double first, double factor, double last) {
  prometheus::Histogram::BucketBoundaries bounds;
  for (double bound = first; bound <= last * 1.0001; bound *= factor) bounds.push_back(bound);
  return bounds;
}

prometheus::Histogram& Histogram(prometheus::Registry& registry, const char* name, const char* help,
                                 prometheus::Histogram::BucketBoundaries bounds) {
  return prometheus::BuildHistogram().Name(name).Help(help).Register(registry).Add(
      {}, std::move(bounds));
}

}  // namespace

AnswerMetrics::AnswerMetrics(prometheus::Registry& registry)
    : prompt_tokens_(Histogram(registry, "quarry_answer_prompt_tokens",
                               "Tokens of each packed prompt, chat-format overhead included",
                               Geometric(256, 2, 262144))),
      budget_used_(Histogram(registry, "quarry_answer_budget_used_ratio",
                             "Share of the token budget each packed prompt used",
                             {0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 1})),
      dropped_(prometheus::BuildCounter()
                   .Name("quarry_answer_passages_dropped_total")
                   .Help("Passages found but left out of prompts, by reason")
                   .Register(registry)),
      dropped_by_reason_{&dropped_.Add({{"reason", "duplicate"}}),
                         &dropped_.Add({{"reason", "over_budget"}}),
                         &dropped_.Add({{"reason", "below_min_score"}})},
      first_token_seconds_(Histogram(registry, "quarry_answer_llm_first_token_seconds",
                                     "Time from the LLM request to its first answer text",
                                     Geometric(0.025, 2, 102.4))),
      llm_seconds_(Histogram(registry, "quarry_answer_llm_seconds",
                             "Time from the LLM request to the end of its answer",
                             Geometric(0.1, 2, 409.6))),
      llm_errors_(prometheus::BuildCounter()
                      .Name("quarry_answer_llm_errors_total")
                      .Help("LLM requests that failed, by the status the caller got")
                      .Register(registry)) {}

void AnswerMetrics::Packed(const PackedPrompt& packed) {
  prompt_tokens_.Observe(static_cast<double>(packed.prompt_tokens));
  if (packed.budget > 0) {
    budget_used_.Observe(static_cast<double>(packed.prompt_tokens) /
                         static_cast<double>(packed.budget));
  }
  for (const DroppedPassage& dropped : packed.dropped) {
    dropped_by_reason_[static_cast<int>(dropped.reason)]->Increment();
  }
}

void AnswerMetrics::LlmDone(double first_token_seconds, double total_seconds) {
  if (first_token_seconds >= 0) first_token_seconds_.Observe(first_token_seconds);
  llm_seconds_.Observe(total_seconds);
}

void AnswerMetrics::LlmFailed(absl::StatusCode code) {
  // Status codes are a small fixed set, so the label stays bounded.
  llm_errors_.Add({{"code", absl::AsciiStrToLower(absl::StatusCodeToString(code))}}).Increment();
}

}  // namespace quarry::answer
