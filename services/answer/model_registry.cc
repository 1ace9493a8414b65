#include "services/answer/model_registry.h"

#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "services/text/encodings.h"

namespace quarry::answer {
namespace {

constexpr uint32_t kUnknownModelContextWindow = 128000;

}  // namespace

ModelRegistry::ModelRegistry(std::string tokenizer_dir)
    : tokenizer_dir_(std::move(tokenizer_dir)), rules_(DefaultRules()) {}

std::vector<ModelRule> ModelRegistry::DefaultRules() {
  return {
      {"gpt-4o", "o200k_base", 128000},
      {"gpt-4.1", "o200k_base", 1047576},
      {"gpt-4.5", "o200k_base", 128000},
      {"o1", "o200k_base", 200000},
      {"o1-mini", "o200k_base", 128000},
      {"o3", "o200k_base", 200000},
      {"o4", "o200k_base", 200000},
      {"gpt-4", "cl100k_base", 8192},
      {"gpt-4-32k", "cl100k_base", 32768},
      {"gpt-4-turbo", "cl100k_base", 128000},
      {"gpt-3.5-turbo", "cl100k_base", 16385},
      {"gpt-3.5", "cl100k_base", 4096},
  };
}

absl::Status ModelRegistry::AddRule(ModelRule rule) {
  if (rule.prefix.empty()) return absl::InvalidArgumentError("a model rule needs a prefix");
  if (text::FindEncoding(rule.encoding) == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat("model rule '", rule.prefix,
                                                   "': unknown encoding '", rule.encoding,
                                                   "'; known: ", text::EncodingNames()));
  }
  if (rule.context_window == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("model rule '", rule.prefix, "': the context window must be positive"));
  }
  for (ModelRule& existing : rules_) {
    if (existing.prefix == rule.prefix) {
      existing = std::move(rule);
      return absl::OkStatus();
    }
  }
  rules_.push_back(std::move(rule));
  return absl::OkStatus();
}

const ModelRule* ModelRegistry::FindRule(absl::string_view model) const {
  const ModelRule* best = nullptr;
  for (const ModelRule& rule : rules_) {
    if (absl::StartsWith(model, rule.prefix) &&
        (best == nullptr || rule.prefix.size() > best->prefix.size())) {
      best = &rule;
    }
  }
  return best;
}

absl::StatusOr<ModelInfo> ModelRegistry::Resolve(absl::string_view model,
                                                 absl::string_view encoding,
                                                 uint32_t context_window) {
  const ModelRule* rule = FindRule(model);
  if (rule == nullptr && encoding.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "unknown model '", model, "': give its encoding (", text::EncodingNames(), ")"));
  }
  const absl::string_view chosen = encoding.empty() ? absl::string_view(rule->encoding) : encoding;
  absl::StatusOr<const text::Tokenizer*> tokenizer = TokenizerFor(chosen);
  if (!tokenizer.ok()) return tokenizer.status();

  ModelInfo info{std::string(model), *tokenizer, context_window};
  if (info.context_window == 0) {
    info.context_window = rule != nullptr ? rule->context_window : kUnknownModelContextWindow;
  }
  return info;
}

absl::StatusOr<const text::Tokenizer*> ModelRegistry::TokenizerFor(absl::string_view encoding) {
  if (text::FindEncoding(encoding) == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("unknown encoding '", encoding, "'; known: ", text::EncodingNames()));
  }
  absl::MutexLock lock(&mu_);
  auto it = tokenizers_.find(encoding);
  if (it != tokenizers_.end()) return it->second.get();
  absl::StatusOr<std::unique_ptr<text::Tokenizer>> loaded =
      text::Tokenizer::Create(encoding, tokenizer_dir_);
  if (!loaded.ok()) return loaded.status();
  const text::Tokenizer* tokenizer = loaded->get();
  tokenizers_.emplace(std::string(encoding), *std::move(loaded));
  return tokenizer;
}

}  // namespace quarry::answer
