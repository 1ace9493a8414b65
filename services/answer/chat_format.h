// Chat messages and how many prompt tokens an OpenAI chat model charges for them.
//
// OpenAI's accounting for its chat models (gpt-3.5-turbo onwards, gpt-4, gpt-4o, o-series):
// every message costs kTokensPerMessage framing tokens (its start marker, the separator after
// the role, its end marker) plus the tokens of its role and of its content; the reply is then
// primed with kReplyPrimingTokens (the start marker, "assistant", the separator). Messages
// here never carry a "name", which would cost one token more.
//
// Pure functions; thread-safe.
#ifndef QUARRY_SERVICES_ANSWER_CHAT_FORMAT_H_
#define QUARRY_SERVICES_ANSWER_CHAT_FORMAT_H_

#include <cstddef>
#include <string>

#include "absl/types/span.h"
#include "services/text/tokenizer.h"

namespace quarry::answer {

struct ChatMessage {
  std::string role;  // "system", "user" or "assistant"
  std::string content;
};

inline constexpr size_t kTokensPerMessage = 3;
inline constexpr size_t kReplyPrimingTokens = 3;

// The tokens of one message, framing included.
size_t CountMessageTokens(const text::Tokenizer& tokenizer, const ChatMessage& message);

// The prompt tokens of `messages` as the model counts them: every message, then the priming.
size_t CountChatTokens(const text::Tokenizer& tokenizer, absl::Span<const ChatMessage> messages);

}  // namespace quarry::answer

#endif  // QUARRY_SERVICES_ANSWER_CHAT_FORMAT_H_
