// The OpenAI encodings Quarry can tokenize with: each one's name, pre-split pattern and size.
//
// Constant data; safe to read from any thread.
#ifndef QUARRY_SERVICES_TEXT_ENCODINGS_H_
#define QUARRY_SERVICES_TEXT_ENCODINGS_H_

#include <cstddef>
#include <string>

#include "absl/strings/string_view.h"

namespace quarry::text {

struct Encoding {
  // The name tiktoken uses, which is also the base name of the rank table file.
  absl::string_view name;
  // The pre-split pattern in PCRE2 syntax.
  absl::string_view pattern;
  // How many ordinary tokens the rank table holds; a table of another size is the wrong one.
  size_t token_count;
};

// The encoding called `name`, or nullptr when there is none.
const Encoding* FindEncoding(absl::string_view name);

// The names of all encodings, comma-separated, for messages.
std::string EncodingNames();

}  // namespace quarry::text

#endif  // QUARRY_SERVICES_TEXT_ENCODINGS_H_
