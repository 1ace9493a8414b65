// Splits text into the pieces that byte-pair encoding then works on, with an encoding's
// pre-split pattern compiled by PCRE2 with its JIT.
//
// A PieceSplitter owns one compiled pattern. The pattern is matched repeatedly from the end of
// the previous match, like tiktoken's `find_iter`; the patterns of the OpenAI encodings match at
// every position, so the pieces cover the whole text. Each calling thread keeps its own PCRE2
// match data and JIT stack, so matching allocates nothing after a thread's first call.
//
// Immutable after construction; Split() may run on many threads at once.
#ifndef QUARRY_SERVICES_TEXT_PIECE_SPLITTER_H_
#define QUARRY_SERVICES_TEXT_PIECE_SPLITTER_H_

#include <memory>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace quarry::text {

class PieceSplitter {
 public:
  // Compiles `pattern` in PCRE2's UTF and Unicode-property mode. INVALID_ARGUMENT when it does
  // not compile, with PCRE2's message and the offset of the error.
  static absl::StatusOr<std::unique_ptr<PieceSplitter>> Create(absl::string_view pattern);

  ~PieceSplitter();
  PieceSplitter(const PieceSplitter&) = delete;
  PieceSplitter& operator=(const PieceSplitter&) = delete;

  // Calls `on_piece` with each match of the pattern in `text`, in order, until it returns false;
  // each piece is a view into `text`. INTERNAL if PCRE2 fails to match (it runs out of its JIT
  // stack, say); the pieces before the failure have been passed on.
  // REQUIRES: `text` is well-formed UTF-8 (the JIT does not check it).
  absl::Status Split(absl::string_view text,
                     absl::FunctionRef<bool(absl::string_view piece)> on_piece) const;

 private:
  struct CompiledPattern;
  explicit PieceSplitter(std::unique_ptr<CompiledPattern> pattern);

  const std::unique_ptr<CompiledPattern> pattern_;
};

}  // namespace quarry::text

#endif  // QUARRY_SERVICES_TEXT_PIECE_SPLITTER_H_
