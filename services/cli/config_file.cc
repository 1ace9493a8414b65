#include "services/cli/config_file.h"

#include <yaml-cpp/yaml.h>

#include <sstream>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace quarry::cli {
namespace {

// Reads the YAML map as options of the subcommand that is running (the first one selected on
// `app`), so a file written for `quarry shard` needs no section of its own.
class YamlConfig final : public CLI::ConfigBase {
 public:
  explicit YamlConfig(const CLI::App* app) : app_(app) {}

  std::vector<CLI::ConfigItem> from_config(std::istream& input) const override {
    YAML::Node root;
    try {
      root = YAML::Load(input);
    } catch (const YAML::Exception& e) {
      throw CLI::FileError(std::string("--config: the file is not valid YAML: ") + e.what());
    }
    if (root.IsNull()) return {};
    if (!root.IsMap()) {
      throw CLI::FileError("--config: the file must be a map of option names to values");
    }
    const std::vector<CLI::App*> running = app_->get_subcommands();
    if (running.empty()) throw CLI::FileError("--config: give it after a subcommand");
    const CLI::App& command = *running.front();

    std::vector<CLI::ConfigItem> items;
    for (const auto& entry : root) {
      CLI::ConfigItem item;
      item.parents = {command.get_name()};
      item.name = entry.first.as<std::string>();
      if (command.get_option_no_throw("--" + item.name) == nullptr) {
        throw CLI::FileError("--config: 'quarry " + command.get_name() + "' has no option '" +
                             item.name + "'");
      }
      const YAML::Node& value = entry.second;
      if (value.IsSequence()) {
        for (const auto& element : value) {
          if (!element.IsScalar()) throw Unusable(item.name);
          item.inputs.push_back(element.as<std::string>());
        }
      } else if (value.IsScalar()) {
        item.inputs.push_back(value.as<std::string>());
      } else {
        throw Unusable(item.name);
      }
      items.push_back(std::move(item));
    }
    return items;
  }

 private:
  static CLI::FileError Unusable(const std::string& name) {
    return CLI::FileError("--config: '" + name + "' must be a value or a list of values");
  }

  const CLI::App* app_;
};

bool IsSecret(absl::string_view name) {
  const std::string lower = absl::AsciiStrToLower(name);
  for (absl::string_view word : {"key", "secret", "token", "password"}) {
    if (absl::StrContains(lower, word)) return true;
  }
  return false;
}

}  // namespace

void AddConfigFileOption(CLI::App& app) {
  app.fallthrough();
  app.config_formatter(std::make_shared<YamlConfig>(&app));
  app.set_config("--config", "",
                 "YAML file of options for the subcommand (names without the dashes); "
                 "flags on the command line win");
}

std::string EffectiveConfiguration(const CLI::App& command) {
  // The base formatter writes one `name=value` line per option.
  const CLI::ConfigBase lines;
  std::vector<std::string> pairs;
  for (absl::string_view line :
       absl::StrSplit(lines.to_config(&command, true, false, ""), '\n', absl::SkipEmpty())) {
    std::pair<absl::string_view, absl::string_view> pair = absl::StrSplit(line, '=');
    const absl::string_view name = absl::StripAsciiWhitespace(pair.first);
    const absl::string_view value = absl::StripAsciiWhitespace(pair.second);
    pairs.push_back(absl::StrCat(name, "=", IsSecret(name) && value != "\"\"" ? "***" : value));
  }
  return absl::StrJoin(pairs, " ");
}

}  // namespace quarry::cli
