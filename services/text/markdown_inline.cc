#include "services/text/markdown_inline.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"

namespace quarry::text {
namespace {

// Deeply nested brackets are read as text rather than recursed into, and a bracket is matched
// within a bounded span, so that no input makes rendering quadratic.
constexpr int kMaxLinkNesting = 16;
constexpr size_t kMaxBracketSpan = 4096;

// The index of the `close` that balances the `open` at `text[at]`, or npos.
size_t MatchingBracket(absl::string_view text, size_t at, char open, char close) {
  int depth = 0;
  const size_t end = std::min(text.size(), at + kMaxBracketSpan);
  for (size_t i = at; i < end; ++i) {
    if (text[i] == '\\') {
      ++i;
    } else if (text[i] == open) {
      ++depth;
    } else if (text[i] == close && --depth == 0) {
      return i;
    }
  }
  return absl::string_view::npos;
}

// The length of the HTML tag or autolink starting at `text[at]` ('<'), or 0 when there is none.
size_t TagLength(absl::string_view text, size_t at) {
  size_t i = at + 1;
  if (i < text.size() && text[i] == '/') ++i;
  if (i >= text.size() || !absl::ascii_isalpha(text[i])) return 0;
  const size_t end = text.find('>', i);
  if (end == absl::string_view::npos) return 0;
  const absl::string_view inside = text.substr(at + 1, end - at - 1);
  if (inside.find('<') != absl::string_view::npos || inside.find('\n') != absl::string_view::npos) {
    return 0;
  }
  return end - at + 1;
}

// The number of copies of `text[at]` starting at `at`.
size_t RunLength(absl::string_view text, size_t at) {
  size_t end = at;
  while (end < text.size() && text[end] == text[at]) ++end;
  return end - at;
}

bool IsWordByte(char c) { return absl::ascii_isalnum(c) || static_cast<unsigned char>(c) >= 0x80; }

class InlineRenderer {
 public:
  explicit InlineRenderer(int nesting) : nesting_(nesting) {}

  std::string Render(absl::string_view text) {
    std::string out;
    out.reserve(text.size());
    size_t i = 0;
    while (i < text.size()) {
      const char c = text[i];
      if (c == '\\' && i + 1 < text.size() && absl::ascii_ispunct(text[i + 1])) {
        out.push_back(text[i + 1]);
        i += 2;
      } else if (c == '`') {
        i = CodeSpan(text, i, &out);
      } else if (c == '[' || (c == '!' && i + 1 < text.size() && text[i + 1] == '[')) {
        i = Link(text, c == '!' ? i + 1 : i, &out);
      } else if (c == '<') {
        i = Tag(text, i, &out);
      } else if (c == '*' || c == '_' || c == '~') {
        i = EmphasisRun(text, i, &out);
      } else {
        out.push_back(c);
        ++i;
      }
    }
    return out;
  }

 private:
  // A run of N backticks opens a code span closed by the next run of exactly N.
  size_t CodeSpan(absl::string_view text, size_t at, std::string* out) {
    const size_t run = RunLength(text, at);
    for (size_t close = text.find('`', at + run); close != absl::string_view::npos;
         close = text.find('`', close)) {
      const size_t close_run = RunLength(text, close);
      if (close_run != run) {
        close += close_run;
        continue;
      }
      absl::string_view code = text.substr(at + run, close - at - run);
      if (code.size() >= 2 && code.front() == ' ' && code.back() == ' ') {
        code = code.substr(1, code.size() - 2);
      }
      out->append(code.data(), code.size());
      return close + run;
    }
    out->append(text.data() + at, run);
    return at + run;
  }

  // `[text](destination)`, `[text][label]`, `![alt](src)`: the text. A bracket that starts no
  // link, as in a syntax summary "[ UNIQUE ]", is kept as it is.
  size_t Link(absl::string_view text, size_t open, std::string* out) {
    const size_t close = MatchingBracket(text, open, '[', ']');
    const bool image = open > 0 && text[open - 1] == '!';
    const size_t after = close + 1;
    size_t end = absl::string_view::npos;
    if (close != absl::string_view::npos && after < text.size() && nesting_ < kMaxLinkNesting) {
      if (text[after] == '(') end = MatchingBracket(text, after, '(', ')');
      if (text[after] == '[') end = MatchingBracket(text, after, '[', ']');
    }
    if (end == absl::string_view::npos) {
      out->append(text.data() + (image ? open - 1 : open), image ? 2 : 1);
      return open + 1;
    }
    out->append(InlineRenderer(nesting_ + 1).Render(text.substr(open + 1, close - open - 1)));
    return end + 1;
  }

  // `<https://example.com>` gives the address; other tags are dropped; a lone '<' is text.
  size_t Tag(absl::string_view text, size_t at, std::string* out) {
    const size_t length = TagLength(text, at);
    if (length == 0) {
      out->push_back('<');
      return at + 1;
    }
    const absl::string_view inside = text.substr(at + 1, length - 2);
    if (absl::StrContains(inside, "://") || absl::StartsWith(inside, "mailto:")) {
      out->append(inside.data(), inside.size());
    }
    return at + length;
  }

  // A run with text on at least one side opens or closes emphasis and is dropped; one between
  // spaces ("2 * 3") is text. A `_` between two word characters (snake_case) is text too, and
  // `~` counts only in pairs.
  size_t EmphasisRun(absl::string_view text, size_t at, std::string* out) {
    const char c = text[at];
    const size_t run = RunLength(text, at);
    const size_t end = at + run;

    const bool space_before = at == 0 || absl::ascii_isspace(text[at - 1]);
    const bool space_after = end == text.size() || absl::ascii_isspace(text[end]);
    bool delimiter = !(space_before && space_after);
    if (c == '_') {
      const bool word_before = at > 0 && IsWordByte(text[at - 1]);
      const bool word_after = end < text.size() && IsWordByte(text[end]);
      delimiter = delimiter && !(word_before && word_after);
    }
    if (c == '~') delimiter = delimiter && run == 2;
    if (!delimiter) out->append(text.data() + at, run);
    return end;
  }

  const int nesting_;
};

}  // namespace

std::string MarkdownInlineToText(absl::string_view markdown) {
  return InlineRenderer(0).Render(markdown);
}

}  // namespace quarry::text
