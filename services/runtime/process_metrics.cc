#include "services/runtime/process_metrics.h"

#include <sys/resource.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>

#include "absl/strings/numbers.h"
#include "services/runtime/log.h"

namespace quarry::runtime {
namespace {

using prometheus::MetricType;

// Fields of /proc/self/stat after the command name (which may hold spaces): field 3 is [0].
std::vector<std::string> StatFields() {
  std::ifstream in("/proc/self/stat");
  std::string line;
  std::getline(in, line);
  const size_t close = line.rfind(')');
  std::vector<std::string> fields;
  if (close == std::string::npos) return fields;
  std::istringstream rest(line.substr(close + 1));
  for (std::string field; rest >> field;) fields.push_back(field);
  return fields;
}

// Seconds since the epoch at which the machine booted (btime of /proc/stat); 0 if unknown.
double BootTime() {
  std::ifstream in("/proc/stat");
  for (std::string key; in >> key;) {
    if (key == "btime") {
      double seconds = 0;
      in >> seconds;
      return seconds;
    }
    in.ignore(std::numeric_limits<std::streamsize>::max(), '\n');
  }
  return 0;
}

double OpenFds() {
  std::error_code error;
  double count = 0;
  for (auto it = std::filesystem::directory_iterator("/proc/self/fd", error);
       !error && it != std::filesystem::directory_iterator(); it.increment(error)) {
    ++count;
  }
  return count;
}

}  // namespace

std::vector<ScrapedValue> ProcessValues(const std::string& service) {
  std::vector<ScrapedValue> values;
  values.push_back({"quarry_build_info",
                    "The Quarry build serving, always 1",
                    MetricType::Gauge,
                    {{"service", service}, {"version", std::string(Version())}},
                    1});

  const std::vector<std::string> stat = StatFields();
  // Fields are numbered as in proc(5), from 1; `stat` starts at field 3.
  auto field = [&stat](size_t number, double& value) {
    return stat.size() > number - 3 && absl::SimpleAtod(stat[number - 3], &value);
  };
  double utime, stime, starttime, vsize, rss;
  if (field(14, utime) && field(15, stime) && field(22, starttime) && field(23, vsize) &&
      field(24, rss)) {
    const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
    const double page = static_cast<double>(sysconf(_SC_PAGESIZE));
    const double cpu = (utime + stime) / ticks;
    values.push_back({"process_cpu_seconds_total",
                      "User and system CPU time spent, in seconds",
                      MetricType::Counter,
                      {},
                      cpu});
    values.push_back({"process_start_time_seconds",
                      "Start time of the process since the Unix epoch, in seconds",
                      MetricType::Gauge,
                      {},
                      BootTime() + starttime / ticks});
    values.push_back({"process_virtual_memory_bytes",
                      "Virtual memory size, in bytes",
                      MetricType::Gauge,
                      {},
                      vsize});
    values.push_back({"process_resident_memory_bytes",
                      "Resident memory size, in bytes",
                      MetricType::Gauge,
                      {},
                      rss * page});
  }
  values.push_back({"process_open_fds", "Open file descriptors", MetricType::Gauge, {}, OpenFds()});
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0) {
    values.push_back({"process_max_fds",
                      "Most file descriptors the process may open",
                      MetricType::Gauge,
                      {},
                      static_cast<double>(limit.rlim_cur)});
  }
  return values;
}

}  // namespace quarry::runtime
