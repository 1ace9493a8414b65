// Answers a question with no model: the sentences of the packed passages that best match it,
// each followed by the citation number of its passage, e.g. "VACUUM FULL takes an ACCESS
// EXCLUSIVE lock. [2]".
//
// A sentence scores the summed inverse document frequency (over all candidate sentences) of
// the distinct question units (see text_units.h) it contains; the best `max_sentences` with a
// positive score are given, best first, one per line, identical sentences once.
//
// Immutable; thread-safe.
#ifndef QUARRY_SERVICES_ANSWER_EXTRACTIVE_ANSWERER_H_
#define QUARRY_SERVICES_ANSWER_EXTRACTIVE_ANSWERER_H_

#include <cstddef>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace quarry::answer {

// A passage as it stands in the prompt, under its citation.
struct CitedPassage {
  int citation = 0;
  absl::string_view text;
};

class ExtractiveAnswerer {
 public:
  explicit ExtractiveAnswerer(size_t max_sentences = 3) : max_sentences_(max_sentences) {}

  // The answer; empty when no sentence shares a unit with the question.
  std::string Answer(absl::string_view question, const std::vector<CitedPassage>& passages) const;

 private:
  const size_t max_sentences_;
};

}  // namespace quarry::answer

#endif  // QUARRY_SERVICES_ANSWER_EXTRACTIVE_ANSWERER_H_
