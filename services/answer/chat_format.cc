#include "services/answer/chat_format.h"

namespace quarry::answer {

size_t CountMessageTokens(const text::Tokenizer& tokenizer, const ChatMessage& message) {
  return kTokensPerMessage + tokenizer.Count(message.role) + tokenizer.Count(message.content);
}

size_t CountChatTokens(const text::Tokenizer& tokenizer, absl::Span<const ChatMessage> messages) {
  size_t tokens = kReplyPrimingTokens;
  for (const ChatMessage& message : messages) tokens += CountMessageTokens(tokenizer, message);
  return tokens;
}

}  // namespace quarry::answer
