#include "services/runtime/scraped_metrics.h"

#include <utility>

#include "absl/container/flat_hash_map.h"

namespace quarry::runtime {

std::vector<prometheus::MetricFamily> ScrapedMetrics::Collect() const {
  std::vector<prometheus::MetricFamily> families;
  absl::flat_hash_map<std::string, size_t> family_of;
  for (ScrapedValue& value : reader_()) {
    auto [it, added] = family_of.try_emplace(value.name, families.size());
    if (added) {
      prometheus::MetricFamily& family = families.emplace_back();
      family.name = value.name;
      family.help = std::move(value.help);
      family.type = value.type;
    }
    prometheus::MetricFamily& family = families[it->second];
    prometheus::ClientMetric& metric = family.metric.emplace_back();
    for (auto& [label, label_value] : value.labels) metric.label.push_back({label, label_value});
    if (family.type == prometheus::MetricType::Counter) {
      metric.counter.value = value.value;
    } else {
      metric.gauge.value = value.value;
    }
  }
  return families;
}

}  // namespace quarry::runtime
