#include "services/runtime/log.h"

#include <spdlog/sinks/stdout_sinks.h>

#include <mutex>
#include <string>

#include "absl/strings/str_cat.h"

namespace quarry::runtime {
namespace {

constexpr char kTextPattern[] = "%Y-%m-%dT%H:%M:%S.%fZ %L %n: %v";
constexpr char kJsonPattern[] =
    R"({"time":"%Y-%m-%dT%H:%M:%S.%fZ","level":"%l","component":"%n","message":"%v"})";

struct LogConfig {
  std::mutex mu;
  spdlog::level::level_enum level = spdlog::level::info;
  bool json = false;
};

LogConfig& Config() {
  static LogConfig* config = new LogConfig();
  return *config;
}

void Apply(spdlog::logger& logger, spdlog::level::level_enum level, bool json) {
  logger.set_level(level);
  logger.set_pattern(json ? kJsonPattern : kTextPattern, spdlog::pattern_time_type::utc);
}

}  // namespace

absl::Status ConfigureLogging(absl::string_view level, bool json) {
  spdlog::level::level_enum parsed = spdlog::level::from_str(std::string(level));
  if (parsed == spdlog::level::off && level != "off") {
    return absl::InvalidArgumentError(
        absl::StrCat("unknown log level '", level, "' (trace, debug, info, warn, error)"));
  }
  LogConfig& config = Config();
  std::lock_guard<std::mutex> lock(config.mu);
  config.level = parsed;
  config.json = json;
  spdlog::apply_all([&](std::shared_ptr<spdlog::logger> logger) { Apply(*logger, parsed, json); });
  return absl::OkStatus();
}

std::shared_ptr<spdlog::logger> Logger(absl::string_view component) {
  std::string name(component);
  LogConfig& config = Config();
  std::lock_guard<std::mutex> lock(config.mu);
  if (auto existing = spdlog::get(name)) return existing;
  auto logger = spdlog::stderr_logger_mt(name);
  Apply(*logger, config.level, config.json);
  logger->flush_on(spdlog::level::info);
  return logger;
}

absl::string_view Version() {
#ifdef QUARRY_VERSION
  return QUARRY_VERSION;
#else
  return "dev";
#endif
}

}  // namespace quarry::runtime
