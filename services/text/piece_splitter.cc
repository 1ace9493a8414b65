#include "services/text/piece_splitter.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <cstdint>
#include <string>

#include "absl/strings/str_cat.h"

namespace quarry::text {
namespace {

// The largest JIT stack a thread may grow. The tokenizer patterns need far less: their repeats
// are of single characters, which the JIT runs without stack per repetition.
constexpr size_t kJitStackStartBytes = 32 << 10;
constexpr size_t kJitStackMaxBytes = 8 << 20;

std::string Pcre2Message(int error_code) {
  PCRE2_UCHAR buffer[256];
  if (pcre2_get_error_message(error_code, buffer, sizeof(buffer)) < 0) {
    return absl::StrCat("PCRE2 error ", error_code);
  }
  return reinterpret_cast<const char*>(buffer);
}

// What one thread needs to run a match: its result slots and its JIT stack. Neither depends on
// the pattern, so one per thread serves every splitter.
class ThreadMatchState {
 public:
  ThreadMatchState()
      : match_data_(pcre2_match_data_create(1, nullptr)),
        context_(pcre2_match_context_create(nullptr)),
        jit_stack_(pcre2_jit_stack_create(kJitStackStartBytes, kJitStackMaxBytes, nullptr)) {
    if (context_ != nullptr && jit_stack_ != nullptr) {
      pcre2_jit_stack_assign(context_, nullptr, jit_stack_);
      // Backtracking over a long run of spaces costs a step per space; text of any length may
      // hold one, so the work of a match is not capped.
      pcre2_set_match_limit(context_, UINT32_MAX);
    }
  }
  ~ThreadMatchState() {
    pcre2_jit_stack_free(jit_stack_);
    pcre2_match_context_free(context_);
    pcre2_match_data_free(match_data_);
  }
  ThreadMatchState(const ThreadMatchState&) = delete;
  ThreadMatchState& operator=(const ThreadMatchState&) = delete;

  bool ok() const { return match_data_ != nullptr && context_ != nullptr && jit_stack_ != nullptr; }
  pcre2_match_data* match_data() const { return match_data_; }
  pcre2_match_context* context() const { return context_; }

 private:
  pcre2_match_data* const match_data_;
  pcre2_match_context* const context_;
  pcre2_jit_stack* const jit_stack_;
};

}  // namespace

struct PieceSplitter::CompiledPattern {
  ~CompiledPattern() { pcre2_code_free(code); }
  pcre2_code* code = nullptr;
};

absl::StatusOr<std::unique_ptr<PieceSplitter>> PieceSplitter::Create(absl::string_view pattern) {
  auto compiled = std::make_unique<CompiledPattern>();
  int error_code = 0;
  PCRE2_SIZE error_offset = 0;
  compiled->code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(),
                                 PCRE2_UTF | PCRE2_UCP, &error_code, &error_offset, nullptr);
  if (compiled->code == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat("pre-split pattern does not compile at offset ",
                                                   error_offset, ": ", Pcre2Message(error_code)));
  }
  error_code = pcre2_jit_compile(compiled->code, PCRE2_JIT_COMPLETE);
  if (error_code != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("pre-split pattern has no JIT code: ", Pcre2Message(error_code)));
  }
  return std::unique_ptr<PieceSplitter>(new PieceSplitter(std::move(compiled)));
}

PieceSplitter::PieceSplitter(std::unique_ptr<CompiledPattern> pattern)
    : pattern_(std::move(pattern)) {}

PieceSplitter::~PieceSplitter() = default;

absl::Status PieceSplitter::Split(absl::string_view text,
                                  absl::FunctionRef<bool(absl::string_view piece)> on_piece) const {
  thread_local ThreadMatchState state;
  if (!state.ok()) return absl::ResourceExhaustedError("cannot allocate PCRE2 match state");

  const auto* subject = reinterpret_cast<PCRE2_SPTR>(text.data());
  const PCRE2_SIZE* match = pcre2_get_ovector_pointer(state.match_data());
  size_t offset = 0;
  while (offset < text.size()) {
    const int result = pcre2_jit_match(pattern_->code, subject, text.size(), offset, 0,
                                       state.match_data(), state.context());
    if (result == PCRE2_ERROR_NOMATCH) break;
    if (result < 0) {
      return absl::InternalError(
          absl::StrCat("pre-split pattern failed at byte ", offset, ": ", Pcre2Message(result)));
    }

    // None of the tokenizer patterns matches the empty string; should one, step past a character
    // rather than match the same place forever.
    if (match[1] == match[0]) {
      offset = match[1] + 1;
      while (offset < text.size() && (static_cast<uint8_t>(text[offset]) & 0xC0) == 0x80) ++offset;
      continue;
    }
    if (!on_piece(text.substr(match[0], match[1] - match[0]))) break;
    offset = match[1];
  }
  return absl::OkStatus();
}

}  // namespace quarry::text
