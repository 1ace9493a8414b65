// Packs ranked passages into a prompt of at most a given number of tokens, exactly counted
// with the target model's tokenizer and OpenAI's chat-format overhead (see chat_format.h).
//
// Passages are taken in rank order (or MMR order). One whose score is below the threshold is
// dropped; one that repeats a passage already packed (shingle overlap at or above the
// threshold) is dropped as a duplicate; one that does not fit whole is cut after its last
// sentence that fits when at least `min_cut_tokens` of room remain, and otherwise skipped so
// that a later, shorter one may fit. Citation numbers follow the order passages are packed in.
//
// Each block is counted once, and only as far as the room left: the template's parts add up
// (see prompt_template.h), so the instruction and question with no sources plus the blocks is
// the exact count of the finished prompt, which the tests check against counting it whole.
//
// Immutable; Pack may run on many threads at once.
#ifndef QUARRY_SERVICES_ANSWER_PROMPT_PACKER_H_
#define QUARRY_SERVICES_ANSWER_PROMPT_PACKER_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "services/answer/chat_format.h"
#include "services/answer/prompt_template.h"
#include "services/text/tokenizer.h"

namespace quarry::answer {

// A search result offered to the packer.
struct Passage {
  std::string doc_id;
  uint64_t chunk_id = 0;
  std::string title;
  std::string source;
  std::string text;
  float score = 0;  // higher is better
};

struct PackingOptions {
  // Overlap (see shingles.h) at which a passage is a duplicate; above 1 turns the check off.
  double duplicate_threshold = 0.8;
  bool mmr = false;
  double mmr_lambda = 0.7;  // in (0, 1]
  size_t min_cut_tokens = 64;
  std::optional<float> min_score;
};

enum class DropReason { kDuplicate, kOverBudget, kBelowScoreThreshold };

struct PackedSource {
  size_t passage = 0;  // index into the passages given to Pack
  int citation = 0;    // from 1
  size_t tokens = 0;   // of its block in the user message
  bool truncated = false;
  std::string text;  // as it stands in the prompt
};

struct DroppedPassage {
  size_t passage = 0;
  DropReason reason = DropReason::kOverBudget;
  int duplicate_of = 0;  // the citation it repeats, for kDuplicate
};

struct PackedPrompt {
  std::vector<ChatMessage> messages;  // system, then user
  std::vector<PackedSource> sources;  // in citation order
  std::vector<DroppedPassage> dropped;
  size_t prompt_tokens = 0;  // exact, chat-format overhead included; <= budget
  size_t budget = 0;
};

class PromptPacker {
 public:
  // `prompt_template` is not owned and must outlive the packer.
  PromptPacker(const PromptTemplate* prompt_template, const PackingOptions& options);

  // The prompt for `question` over `passages` (best first) in at most `budget` tokens.
  // INVALID_ARGUMENT when the question is empty, or when the instruction and question alone
  // take more than `budget` (the message says how many they take).
  absl::StatusOr<PackedPrompt> Pack(const text::Tokenizer& tokenizer, absl::string_view question,
                                    const std::vector<Passage>& passages, size_t budget) const;

 private:
  const PromptTemplate* const template_;
  const PackingOptions options_;
};

}  // namespace quarry::answer

#endif  // QUARRY_SERVICES_ANSWER_PROMPT_PACKER_H_
