#include "services/answer/sentences.h"

#include <unicode/brkiter.h>
#include <unicode/utext.h>

#include <memory>

#include "absl/strings/ascii.h"

namespace quarry::answer {
namespace {

// One sentence iterator per thread: creating one loads ICU's rules, which is slow.
icu::BreakIterator* ThreadSentenceIterator() {
  thread_local std::unique_ptr<icu::BreakIterator> iterator = [] {
    UErrorCode error = U_ZERO_ERROR;
    std::unique_ptr<icu::BreakIterator> created(
        icu::BreakIterator::createSentenceInstance(icu::Locale::getRoot(), error));
    if (U_FAILURE(error)) created.reset();
    return created;
  }();
  return iterator.get();
}

}  // namespace

std::vector<size_t> SentenceEnds(absl::string_view text) {
  std::vector<size_t> ends;
  if (text.empty()) return ends;
  icu::BreakIterator* iterator = ThreadSentenceIterator();
  UErrorCode error = U_ZERO_ERROR;
  UText* utext = iterator == nullptr ? nullptr
                                     : utext_openUTF8(nullptr, text.data(),
                                                      static_cast<int64_t>(text.size()), &error);
  if (utext == nullptr || U_FAILURE(error)) {
    if (utext != nullptr) utext_close(utext);
    ends.push_back(text.size());  // no ICU: the text is one sentence
    return ends;
  }
  // Offsets into a UTF-8 UText are byte offsets.
  iterator->setText(utext, error);
  for (int32_t end = iterator->next(); end != icu::BreakIterator::DONE; end = iterator->next()) {
    ends.push_back(static_cast<size_t>(end));
  }
  utext_close(utext);
  if (ends.empty() || ends.back() != text.size()) ends.push_back(text.size());
  return ends;
}

std::vector<absl::string_view> SplitSentences(absl::string_view text) {
  std::vector<absl::string_view> sentences;
  size_t begin = 0;
  for (size_t end : SentenceEnds(text)) {
    absl::string_view sentence = absl::StripAsciiWhitespace(text.substr(begin, end - begin));
    if (!sentence.empty()) sentences.push_back(sentence);
    begin = end;
  }
  return sentences;
}

}  // namespace quarry::answer
