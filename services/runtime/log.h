// Levelled, per-component logging for every Quarry process, on top of spdlog.
//
// Each component ("shard", "store", "index", "server", ...) has its own named logger so an
// operator can tell at a glance which part spoke. All loggers share one sink (stderr) and one
// format: plain text for people, or one JSON object per line for log collectors.
//
// Thread-safe.
#ifndef QUARRY_SERVICES_RUNTIME_LOG_H_
#define QUARRY_SERVICES_RUNTIME_LOG_H_

#include <spdlog/spdlog.h>

#include <memory>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace quarry::runtime {

// Sets the level ("trace", "debug", "info", "warn", "error") and format of all loggers.
// Returns INVALID_ARGUMENT for an unknown level.
absl::Status ConfigureLogging(absl::string_view level, bool json);

// The logger of `component`, created on first use with the configured level and format.
std::shared_ptr<spdlog::logger> Logger(absl::string_view component);

// The version of this build, as logged at start-up by every service.
absl::string_view Version();

}  // namespace quarry::runtime

// Lets log lines format absl::string_view (distinct from std::string_view in this Abseil).
template <>
struct fmt::formatter<absl::string_view> : fmt::formatter<fmt::string_view> {
  template <typename Context>
  auto format(absl::string_view text, Context& context) const {
    return fmt::formatter<fmt::string_view>::format(fmt::string_view(text.data(), text.size()),
                                                    context);
  }
};

#endif  // QUARRY_SERVICES_RUNTIME_LOG_H_
