// Which tokenizer and context window each target model has, and the loaded tokenizers.
//
// A model is found by the longest rule whose prefix its name starts with ("gpt-4o" covers
// "gpt-4o-mini-2024-07-18"); the built-in rules cover OpenAI's chat models (gpt-4o, gpt-4.1,
// o1, o3, o4 on o200k_base; gpt-4 and gpt-3.5 on cl100k_base) and a caller may add or replace
// rules. Tokenizers are loaded on first use, once per encoding, and kept.
//
// Thread-safe after construction: AddRule is for set-up only, before the registry is shared.
#ifndef QUARRY_SERVICES_ANSWER_MODEL_REGISTRY_H_
#define QUARRY_SERVICES_ANSWER_MODEL_REGISTRY_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "services/text/tokenizer.h"

namespace quarry::answer {

// What the registry knows of one family of models.
struct ModelRule {
  std::string prefix;       // matches every model name that starts with it
  std::string encoding;     // "cl100k_base" or "o200k_base"
  uint32_t context_window;  // tokens, prompt and answer together
};

// A model as resolved for one request.
struct ModelInfo {
  std::string name;
  const text::Tokenizer* tokenizer;  // owned by the registry
  uint32_t context_window;           // tokens
};

class ModelRegistry {
 public:
  // The built-in rules; tokenizers are read from `tokenizer_dir`.
  explicit ModelRegistry(std::string tokenizer_dir = text::Tokenizer::DefaultDataDir());

  static std::vector<ModelRule> DefaultRules();

  // Adds a rule, replacing one with the same prefix. INVALID_ARGUMENT for an unknown encoding,
  // an empty prefix or a zero window.
  [[nodiscard]] absl::Status AddRule(ModelRule rule);

  // Resolves `model`. A non-empty `encoding` overrides the model's, and makes an unknown model
  // acceptable (with `context_window`, or 128000 tokens when that is 0 too). INVALID_ARGUMENT
  // names an unknown model or encoding; NOT_FOUND when the rank table is missing.
  absl::StatusOr<ModelInfo> Resolve(absl::string_view model, absl::string_view encoding = "",
                                    uint32_t context_window = 0);

  // The tokenizer of `encoding`, loaded on first use.
  absl::StatusOr<const text::Tokenizer*> TokenizerFor(absl::string_view encoding);

  const std::vector<ModelRule>& rules() const { return rules_; }

 private:
  const ModelRule* FindRule(absl::string_view model) const;

  const std::string tokenizer_dir_;
  std::vector<ModelRule> rules_;

  absl::Mutex mu_;
  absl::flat_hash_map<std::string, std::unique_ptr<text::Tokenizer>> tokenizers_
      ABSL_GUARDED_BY(mu_);
};

}  // namespace quarry::answer

#endif  // QUARRY_SERVICES_ANSWER_MODEL_REGISTRY_H_
