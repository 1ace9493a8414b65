#include "services/answer/extractive_answerer.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "services/answer/sentences.h"
#include "services/answer/text_units.h"

namespace quarry::answer {
namespace {

struct ScoredSentence {
  absl::string_view text;
  int citation;
  size_t position;  // order of appearance, for ties
  absl::flat_hash_set<std::string> units;
  double score = 0;
};

}  // namespace

std::string ExtractiveAnswerer::Answer(absl::string_view question,
                                       const std::vector<CitedPassage>& passages) const {
  const std::vector<std::string> question_list = TextUnits(question);
  const absl::flat_hash_set<std::string> question_units(question_list.begin(), question_list.end());
  if (question_units.empty()) return "";

  std::vector<ScoredSentence> sentences;
  absl::flat_hash_map<std::string, size_t> document_frequency;
  for (const CitedPassage& passage : passages) {
    for (absl::string_view sentence : SplitSentences(passage.text)) {
      ScoredSentence scored{sentence, passage.citation, sentences.size(), {}, 0};
      for (std::string& unit : TextUnits(sentence)) {
        if (question_units.contains(unit)) scored.units.insert(std::move(unit));
      }
      for (const std::string& unit : scored.units) ++document_frequency[unit];
      sentences.push_back(std::move(scored));
    }
  }

  const double total = static_cast<double>(sentences.size());
  for (ScoredSentence& sentence : sentences) {
    for (const std::string& unit : sentence.units) {
      sentence.score += std::log(1.0 + total / document_frequency[unit]);
    }
  }
  std::stable_sort(
      sentences.begin(), sentences.end(),
      [](const ScoredSentence& a, const ScoredSentence& b) { return a.score > b.score; });

  std::string answer;
  absl::flat_hash_set<absl::string_view> given;
  for (const ScoredSentence& sentence : sentences) {
    if (given.size() == max_sentences_ || sentence.score <= 0) break;
    if (!given.insert(sentence.text).second) continue;
    absl::StrAppend(&answer, answer.empty() ? "" : "\n", sentence.text, " [", sentence.citation,
                    "]");
  }
  return answer;
}

}  // namespace quarry::answer
