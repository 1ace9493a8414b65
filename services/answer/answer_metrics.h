// What the answer service records for Prometheus:
//
//   quarry_answer_prompt_tokens                       tokens of each packed prompt (histogram)
//   quarry_answer_budget_used_ratio                   prompt tokens / budget (histogram)
//   quarry_answer_passages_dropped_total{reason}      duplicate, over_budget, below_min_score
//   quarry_answer_llm_first_token_seconds             request to first answer text (histogram)
//   quarry_answer_llm_seconds                         request to end of the answer (histogram)
//   quarry_answer_llm_errors_total{code}              failed LLM requests, by the status given
//
// Thread-safe.
#ifndef QUARRY_SERVICES_ANSWER_ANSWER_METRICS_H_
#define QUARRY_SERVICES_ANSWER_ANSWER_METRICS_H_

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include "absl/status/status.h"
#include "services/answer/prompt_packer.h"

namespace quarry::answer {

class AnswerMetrics {
 public:
  // Registers the families in `registry`, which must outlive this object.
  explicit AnswerMetrics(prometheus::Registry& registry);

  void Packed(const PackedPrompt& packed);
  // A finished LLM request; `first_token_seconds` < 0 when no text came.
  void LlmDone(double first_token_seconds, double total_seconds);
  void LlmFailed(absl::StatusCode code);

 private:
  prometheus::Histogram& prompt_tokens_;
  prometheus::Histogram& budget_used_;
  prometheus::Family<prometheus::Counter>& dropped_;
  prometheus::Counter* dropped_by_reason_[3];  // by DropReason
  prometheus::Histogram& first_token_seconds_;
  prometheus::Histogram& llm_seconds_;
  prometheus::Family<prometheus::Counter>& llm_errors_;
};

}  // namespace quarry::answer

#endif  // QUARRY_SERVICES_ANSWER_ANSWER_METRICS_H_
