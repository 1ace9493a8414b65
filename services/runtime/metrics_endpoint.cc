#include "services/runtime/metrics_endpoint.h"

#include <prometheus/text_serializer.h>

#include <iterator>
#include <sstream>
#include <utility>

#include "absl/strings/str_cat.h"
#include "services/runtime/grpc_server_metrics.h"
#include "services/runtime/log.h"
#include "services/runtime/process_metrics.h"

namespace quarry::runtime {

MetricsEndpoint::MetricsEndpoint(std::string service)
    : service_(std::move(service)), registry_(std::make_shared<prometheus::Registry>()) {
  AddScraped([service = service_] { return ProcessValues(service); });
}

MetricsEndpoint::~MetricsEndpoint() { Stop(); }

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>
MetricsEndpoint::GrpcInterceptor() {
  return std::make_unique<GrpcServerMetrics>(*registry_);
}

void MetricsEndpoint::AddScraped(ScrapedMetrics::Reader reader) {
  absl::MutexLock lock(&mu_);
  scraped_.push_back(std::make_unique<ScrapedMetrics>(std::move(reader)));
}

absl::Status MetricsEndpoint::Serve(const std::string& address) {
  absl::StatusOr<std::unique_ptr<MetricsHttpServer>> server =
      MetricsHttpServer::Start(address, [this] { return Render(); });
  if (!server.ok()) return server.status();
  server_ = *std::move(server);
  port_ = server_->port();
  Logger("metrics")->info("{} metrics at http://{}/metrics (port {})", service_, address, port_);
  return absl::OkStatus();
}

absl::Status MetricsEndpoint::ServeBesideGrpc(absl::string_view configured,
                                              absl::string_view grpc_listen, int grpc_port) {
  absl::StatusOr<std::string> address = MetricsAddress(configured, grpc_listen, grpc_port);
  if (!address.ok()) return address.status();
  if (address->empty()) return absl::OkStatus();
  return Serve(*address);
}

void MetricsEndpoint::Stop() { server_.reset(); }

std::string MetricsEndpoint::Render() const {
  std::vector<prometheus::MetricFamily> families = registry_->Collect();
  {
    absl::MutexLock lock(&mu_);
    for (const auto& scraped : scraped_) {
      std::vector<prometheus::MetricFamily> more = scraped->Collect();
      families.insert(families.end(), std::make_move_iterator(more.begin()),
                      std::make_move_iterator(more.end()));
    }
  }
  std::ostringstream out;
  prometheus::TextSerializer().Serialize(out, families);
  return out.str();
}

absl::StatusOr<std::string> MetricsAddress(absl::string_view configured,
                                           absl::string_view grpc_listen, int grpc_port) {
  if (configured == "off") return std::string();
  if (!configured.empty()) return std::string(configured);
  const size_t colon = grpc_listen.rfind(':');
  std::string host(colon == absl::string_view::npos ? "" : grpc_listen.substr(0, colon));
  if (host.empty()) host = "0.0.0.0";
  if (host == "localhost") host = "127.0.0.1";
  // A server told to take any free port cannot have a predictable metrics port either.
  if (colon != absl::string_view::npos && grpc_listen.substr(colon + 1) == "0") {
    return absl::StrCat(host, ":0");
  }
  const int port = grpc_port + 1000;
  if (port > 65535) {
    return absl::InvalidArgumentError(absl::StrCat("the metrics port would be ", port,
                                                   " (gRPC port ", grpc_port,
                                                   " + 1000); give one with --metrics-listen"));
  }
  return absl::StrCat(host, ":", port);
}

}  // namespace quarry::runtime
