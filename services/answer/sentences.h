// Sentence boundaries of UTF-8 text, from ICU's sentence break rules, so that Chinese and
// Japanese sentences (which end in 。！？ with no space) are found as well as English ones.
//
// Thread-safe: each thread keeps its own break iterator.
#ifndef QUARRY_SERVICES_ANSWER_SENTENCES_H_
#define QUARRY_SERVICES_ANSWER_SENTENCES_H_

#include <cstddef>
#include <vector>

#include "absl/strings/string_view.h"

namespace quarry::answer {

// The byte offsets in `text` where each sentence ends, ascending; the last is text.size().
// Empty for empty text. Each sentence keeps the white space that follows it.
std::vector<size_t> SentenceEnds(absl::string_view text);

// The sentences of `text`, white space at their ends removed, empty ones left out.
std::vector<absl::string_view> SplitSentences(absl::string_view text);

}  // namespace quarry::answer

#endif  // QUARRY_SERVICES_ANSWER_SENTENCES_H_
