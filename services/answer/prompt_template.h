// The words of the prompt around the passages: a system instruction, then one user message
// with the numbered sources and the question:
//
//   system: <instruction>
//   user:   Sources:
//
//           [1] <title> — <source>
//           <passage>
//
//           [2] ...
//
//           Question: <question>
//
// Every part of the user message but the last ends in a line break and the next starts with
// "[" or "Question:"; the encodings' pre-split patterns carry a line break on only into white
// space or "/", so no token spans two parts: the tokens of the message are the sum of the tokens
// of its parts, which is what lets the packer count each passage once.
//
// Immutable; thread-safe.
#ifndef QUARRY_SERVICES_ANSWER_PROMPT_TEMPLATE_H_
#define QUARRY_SERVICES_ANSWER_PROMPT_TEMPLATE_H_

#include <string>

#include "absl/strings/string_view.h"

namespace quarry::answer {

class PromptTemplate {
 public:
  static constexpr absl::string_view kDefaultInstruction =
      "Answer the question using only the numbered sources below. Cite the sources you use "
      "by their numbers in square brackets, like [1] or [2][3]. If the sources do not contain "
      "the answer, say that you do not know.";

  explicit PromptTemplate(std::string system_instruction = std::string(kDefaultInstruction));

  const std::string& system_instruction() const { return system_instruction_; }

  // "Sources:" and a blank line.
  static absl::string_view SourcesPreamble() { return "Sources:\n\n"; }

  // "[n] title — source", a line break, the passage, a blank line. White space in the title and
  // source collapses to single spaces; an empty title shows `doc_id`, an empty source is left
  // out. REQUIRES: `passage` neither starts nor ends with white space.
  static std::string SourceBlock(int citation, absl::string_view title, absl::string_view source,
                                 absl::string_view doc_id, absl::string_view passage);

  // "Question: " and the question. REQUIRES: `question` does not start with white space.
  static std::string QuestionPart(absl::string_view question);

 private:
  const std::string system_instruction_;
};

}  // namespace quarry::answer

#endif  // QUARRY_SERVICES_ANSWER_PROMPT_TEMPLATE_H_
