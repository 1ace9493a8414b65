// Metrics whose values are read when /metrics is scraped rather than kept as counters: counts
// and sizes that the code already tracks (chunks in a shard, bytes on disk, process memory).
// A reader returns the current values; values of one name form one metric family.
//
// Thread-safe when the reader is: Collect runs on the HTTP server's threads.
#ifndef QUARRY_SERVICES_RUNTIME_SCRAPED_METRICS_H_
#define QUARRY_SERVICES_RUNTIME_SCRAPED_METRICS_H_

#include <prometheus/collectable.h>
#include <prometheus/labels.h>
#include <prometheus/metric_family.h>
#include <prometheus/metric_type.h>

#include <functional>
#include <string>
#include <vector>

namespace quarry::runtime {

struct ScrapedValue {
  std::string name;  // in base units, "_total" for counters
  std::string help;
  prometheus::MetricType type = prometheus::MetricType::Gauge;  // Gauge or Counter
  prometheus::Labels labels;
  double value = 0;
};

class ScrapedMetrics final : public prometheus::Collectable {
 public:
  using Reader = std::function<std::vector<ScrapedValue>()>;

  explicit ScrapedMetrics(Reader reader) : reader_(std::move(reader)) {}

  // Families in the order their names first appear in the reader's values.
  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  const Reader reader_;
};

}  // namespace quarry::runtime

#endif  // QUARRY_SERVICES_RUNTIME_SCRAPED_METRICS_H_
