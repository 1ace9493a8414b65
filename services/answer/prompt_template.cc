#include "services/answer/prompt_template.h"

#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace quarry::answer {
namespace {

// `text` on one line: every run of ASCII white space becomes one space, none at the ends.
std::string OneLine(absl::string_view text) {
  std::string line;
  line.reserve(text.size());
  bool space = false;
  for (char c : text) {
    if (absl::ascii_isspace(static_cast<unsigned char>(c))) {
      space = !line.empty();
      continue;
    }
    if (space) line += ' ';
    space = false;
    line += c;
  }
  return line;
}

}  // namespace

PromptTemplate::PromptTemplate(std::string system_instruction)
    : system_instruction_(std::move(system_instruction)) {}

std::string PromptTemplate::SourceBlock(int citation, absl::string_view title,
                                        absl::string_view source, absl::string_view doc_id,
                                        absl::string_view passage) {
  std::string heading = OneLine(title);
  if (heading.empty()) heading = OneLine(doc_id);
  const std::string where = OneLine(source);
  std::string block = absl::StrCat("[", citation, "] ", heading);
  if (!where.empty()) absl::StrAppend(&block, " — ", where);
  absl::StrAppend(&block, "\n", passage, "\n\n");
  return block;
}

std::string PromptTemplate::QuestionPart(absl::string_view question) {
  return absl::StrCat("Question: ", question);
}

}  // namespace quarry::answer
