#include "services/answer/chat_format.h"

#include <gtest/gtest.h>

#include <memory>
#include <vector>

namespace quarry::answer {
namespace {

TEST(CountChatTokens, ChargesFramingPerMessageAndTheReplyPriming) {
  for (const char* encoding : {"cl100k_base", "o200k_base"}) {
    absl::StatusOr<std::unique_ptr<text::Tokenizer>> tokenizer = text::Tokenizer::Create(encoding);
    ASSERT_TRUE(tokenizer.ok()) << tokenizer.status();
    // A lone "Hello" from the user is billed as 8 prompt tokens by OpenAI's chat models.
    EXPECT_EQ(CountChatTokens(**tokenizer, std::vector<ChatMessage>{{"user", "Hello"}}), 8u)
        << encoding;

    const std::vector<ChatMessage> messages = {{"system", "Answer briefly."},
                                               {"user", "What is VACUUM FULL?"}};
    size_t expected = kReplyPrimingTokens;
    for (const ChatMessage& message : messages) {
      expected += kTokensPerMessage + (*tokenizer)->Count(message.role) +
                  (*tokenizer)->Count(message.content);
    }
    EXPECT_EQ(CountChatTokens(**tokenizer, messages), expected) << encoding;
    EXPECT_EQ(CountMessageTokens(**tokenizer, messages[1]),
              kTokensPerMessage + 1 + (*tokenizer)->Count("What is VACUUM FULL?"));
  }
}

TEST(CountChatTokens, NoMessagesCostOnlyThePriming) {
  absl::StatusOr<std::unique_ptr<text::Tokenizer>> tokenizer =
      text::Tokenizer::Create("o200k_base");
  ASSERT_TRUE(tokenizer.ok());
  EXPECT_EQ(CountChatTokens(**tokenizer, {}), kReplyPrimingTokens);
}

}  // namespace
}  // namespace quarry::answer
