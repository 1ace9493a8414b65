#include "services/answer/model_registry.h"

#include <gtest/gtest.h>

#include "absl/strings/match.h"

namespace quarry::answer {
namespace {

TEST(ModelRegistry, ChoosesTheEncodingByTheLongestPrefix) {
  ModelRegistry registry;
  struct Case {
    const char* model;
    const char* encoding;
    uint32_t window;
  };
  for (const Case& c :
       {Case{"gpt-4o-mini-2024-07-18", "o200k_base", 128000},
        Case{"gpt-4.1-nano", "o200k_base", 1047576}, Case{"o3-mini", "o200k_base", 200000},
        Case{"gpt-4", "cl100k_base", 8192}, Case{"gpt-4-turbo-2024-04-09", "cl100k_base", 128000},
        Case{"gpt-3.5-turbo", "cl100k_base", 16385}}) {
    absl::StatusOr<ModelInfo> info = registry.Resolve(c.model);
    ASSERT_TRUE(info.ok()) << c.model << ": " << info.status();
    EXPECT_EQ(info->tokenizer->encoding_name(), c.encoding) << c.model;
    EXPECT_EQ(info->context_window, c.window) << c.model;
  }
}

TEST(ModelRegistry, AnUnknownModelNeedsAnEncoding) {
  ModelRegistry registry;
  absl::StatusOr<ModelInfo> unknown = registry.Resolve("llama3.1:8b");
  ASSERT_TRUE(absl::IsInvalidArgument(unknown.status())) << unknown.status();
  EXPECT_TRUE(absl::StrContains(unknown.status().message(), "llama3.1:8b"));

  absl::StatusOr<ModelInfo> given = registry.Resolve("llama3.1:8b", "cl100k_base", 8000);
  ASSERT_TRUE(given.ok()) << given.status();
  EXPECT_EQ(given->tokenizer->encoding_name(), "cl100k_base");
  EXPECT_EQ(given->context_window, 8000u);

  absl::StatusOr<ModelInfo> bad = registry.Resolve("gpt-4o", "p50k_base");
  ASSERT_TRUE(absl::IsInvalidArgument(bad.status()));
  EXPECT_TRUE(absl::StrContains(bad.status().message(), "p50k_base"));
}

TEST(ModelRegistry, RulesCanBeAddedAndReplaced) {
  ModelRegistry registry;
  ASSERT_TRUE(registry.AddRule({"qwen", "o200k_base", 32768}).ok());
  ASSERT_TRUE(registry.AddRule({"gpt-4", "cl100k_base", 9000}).ok());
  EXPECT_EQ(registry.Resolve("qwen2.5")->context_window, 32768u);
  EXPECT_EQ(registry.Resolve("gpt-4-0613")->context_window, 9000u);
  EXPECT_TRUE(absl::IsInvalidArgument(registry.AddRule({"x", "nope", 10})));
  EXPECT_TRUE(absl::IsInvalidArgument(registry.AddRule({"", "o200k_base", 10})));
  EXPECT_TRUE(absl::IsInvalidArgument(registry.AddRule({"x", "o200k_base", 0})));
}

TEST(ModelRegistry, LoadsEachTokenizerOnce) {
  ModelRegistry registry;
  absl::StatusOr<const text::Tokenizer*> first = registry.TokenizerFor("o200k_base");
  absl::StatusOr<const text::Tokenizer*> second = registry.TokenizerFor("o200k_base");
  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_EQ(*first, *second);

  ModelRegistry missing("/nonexistent/tiktoken");
  EXPECT_TRUE(absl::IsNotFound(missing.TokenizerFor("o200k_base").status()));
}

}  // namespace
}  // namespace quarry::answer
