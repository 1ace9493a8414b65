// What every service reports about its own process, in the names Prometheus client libraries
// use: process_resident_memory_bytes, process_virtual_memory_bytes, process_cpu_seconds_total,
// process_open_fds, process_max_fds, process_start_time_seconds; and
// quarry_build_info{service, version} = 1. Read from /proc at each scrape (Linux).
#ifndef QUARRY_SERVICES_RUNTIME_PROCESS_METRICS_H_
#define QUARRY_SERVICES_RUNTIME_PROCESS_METRICS_H_

#include <string>
#include <vector>

#include "services/runtime/scraped_metrics.h"

namespace quarry::runtime {

// The values now; `service` labels the build info ("shard", "router", "answer").
std::vector<ScrapedValue> ProcessValues(const std::string& service);

}  // namespace quarry::runtime

#endif  // QUARRY_SERVICES_RUNTIME_PROCESS_METRICS_H_
