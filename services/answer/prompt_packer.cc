#include "services/answer/prompt_packer.h"

#include <algorithm>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "services/answer/mmr.h"
#include "services/answer/sentences.h"
#include "services/answer/shingles.h"

namespace quarry::answer {
namespace {

// A passage on its way into the prompt.
struct Candidate {
  size_t passage;
  absl::string_view text;  // stripped of white space at both ends
  ShingleSet shingles;
};

std::vector<ChatMessage> BuildMessages(const PromptTemplate& prompt_template,
                                       absl::string_view question,
                                       const std::vector<std::string>& blocks) {
  std::string user(PromptTemplate::SourcesPreamble());
  for (const std::string& block : blocks) user += block;
  user += PromptTemplate::QuestionPart(question);

  std::vector<ChatMessage> messages;
  if (!prompt_template.system_instruction().empty()) {
    messages.push_back({"system", prompt_template.system_instruction()});
  }
  messages.push_back({"user", std::move(user)});
  return messages;
}

}  // namespace

PromptPacker::PromptPacker(const PromptTemplate* prompt_template, const PackingOptions& options)
    : template_(prompt_template), options_(options) {}

absl::StatusOr<PackedPrompt> PromptPacker::Pack(const text::Tokenizer& tokenizer,
                                                absl::string_view question,
                                                const std::vector<Passage>& passages,
                                                size_t budget) const {
  question = absl::StripAsciiWhitespace(question);
  if (question.empty()) return absl::InvalidArgumentError("the question is empty");

  PackedPrompt packed;
  packed.budget = budget;

  // The instruction and question with no sources: what every prompt costs at least.
  const size_t fixed_tokens =
      CountChatTokens(tokenizer, BuildMessages(*template_, question, /*blocks=*/{}));
  if (fixed_tokens > budget) {
    return absl::InvalidArgumentError(
        absl::StrCat("token budget ", budget,
                     " is too small: the instruction and question alone "
                     "take ",
                     fixed_tokens, " tokens (", tokenizer.encoding_name(), ")"));
  }

  // Below the score threshold, or with no text to show, a passage is not a candidate.
  std::vector<Candidate> candidates;
  candidates.reserve(passages.size());
  for (size_t i = 0; i < passages.size(); ++i) {
    if (options_.min_score.has_value() && passages[i].score < *options_.min_score) {
      packed.dropped.push_back({i, DropReason::kBelowScoreThreshold, 0});
      continue;
    }
    const absl::string_view text = absl::StripAsciiWhitespace(passages[i].text);
    if (text.empty()) continue;
    candidates.push_back({i, text, {}});
  }
  const bool dedup = options_.duplicate_threshold <= 1.0;
  if (dedup || options_.mmr) {
    for (Candidate& candidate : candidates) candidate.shingles = MakeShingles(candidate.text);
  }

  std::vector<size_t> order(candidates.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  if (options_.mmr && candidates.size() > 1) {
    std::vector<float> scores;
    std::vector<const ShingleSet*> shingles;
    for (const Candidate& candidate : candidates) {
      scores.push_back(passages[candidate.passage].score);
      shingles.push_back(&candidate.shingles);
    }
    order = MmrOrder(scores, shingles, std::clamp(options_.mmr_lambda, 0.0, 1.0));
  }

  // Parts of the user message add up (see prompt_template.h), so each block is counted alone.
  std::vector<std::string> blocks;
  ShingleIndex packed_shingles;  // of the passages packed, by position in packed.sources
  size_t used = fixed_tokens;
  for (size_t index : order) {
    const Candidate& candidate = candidates[index];
    const Passage& passage = passages[candidate.passage];

    if (dedup) {
      const std::optional<size_t> repeated =
          packed_shingles.FindOverlapping(candidate.shingles, options_.duplicate_threshold);
      if (repeated.has_value()) {
        packed.dropped.push_back(
            {candidate.passage, DropReason::kDuplicate, packed.sources[*repeated].citation});
        continue;
      }
    }

    const int citation = static_cast<int>(packed.sources.size()) + 1;
    const size_t room = budget - used;
    auto block_of = [&](absl::string_view text) {
      return PromptTemplate::SourceBlock(citation, passage.title, passage.source, passage.doc_id,
                                         text);
    };
    // Counting stops once a block is known not to fit, so the passages met after the budget is
    // spent cost little.
    std::string block = block_of(candidate.text);
    size_t tokens = tokenizer.CountUpTo(block, room);
    absl::string_view text = candidate.text;
    bool truncated = false;

    if (tokens > room) {
      tokens = 0;
      if (room >= options_.min_cut_tokens) {
        // The most whole sentences whose block fits: a binary search over sentence counts.
        const std::vector<size_t> ends = SentenceEnds(candidate.text);
        size_t low = 1;
        size_t high = ends.size() - 1;  // ends.size() sentences is the whole passage
        while (low <= high) {
          const size_t middle = low + (high - low) / 2;
          const absl::string_view prefix =
              absl::StripTrailingAsciiWhitespace(candidate.text.substr(0, ends[middle - 1]));
          std::string cut_block = block_of(prefix);
          const size_t cut_tokens = tokenizer.CountUpTo(cut_block, room);
          if (cut_tokens <= room) {
            block = std::move(cut_block);
            tokens = cut_tokens;
            text = prefix;
            truncated = true;
            low = middle + 1;
          } else {
            high = middle - 1;
          }
        }
      }
      if (!truncated) {
        packed.dropped.push_back({candidate.passage, DropReason::kOverBudget, 0});
        continue;
      }
    }

    used += tokens;
    blocks.push_back(std::move(block));
    if (dedup) packed_shingles.Add(candidate.shingles);
    packed.sources.push_back({candidate.passage, citation, tokens, truncated, std::string(text)});
  }

  // The parts add up (see prompt_template.h), so the sum is the exact count of the whole prompt.
  packed.messages = BuildMessages(*template_, question, blocks);
  packed.prompt_tokens = used;
  return packed;
}

}  // namespace quarry::answer
