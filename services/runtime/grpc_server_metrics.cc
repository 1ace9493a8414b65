#include "services/runtime/grpc_server_metrics.h"

#include <google/protobuf/descriptor.h>

#include <chrono>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/string_view.h"

namespace quarry::runtime {
namespace {

using grpc::experimental::InterceptionHookPoints;
using grpc::experimental::ServerRpcInfo;

const char* TypeName(ServerRpcInfo::Type type) {
  switch (type) {
    case ServerRpcInfo::Type::UNARY:
      return "unary";
    case ServerRpcInfo::Type::CLIENT_STREAMING:
      return "client_stream";
    case ServerRpcInfo::Type::SERVER_STREAMING:
      return "server_stream";
    case ServerRpcInfo::Type::BIDI_STREAMING:
      return "bidi_stream";
  }
  return "unary";
}

// The code's name as the Go and Java interceptors spell it.
const char* CodeName(int code) {
  static constexpr const char* kNames[] = {
      "OK",       "Canceled",       "Unknown",          "InvalidArgument",   "DeadlineExceeded",
      "NotFound", "AlreadyExists",  "PermissionDenied", "ResourceExhausted", "FailedPrecondition",
      "Aborted",  "OutOfRange",     "Unimplemented",    "Internal",          "Unavailable",
      "DataLoss", "Unauthenticated"};
  return kNames[code];
}

// Splits "/package.Service/Method" into service and method when the server can know the method:
// it is in the generated descriptor pool, or it is a health check (served by gRPC itself).
bool KnownMethod(absl::string_view path, std::string& service, std::string& method) {
  if (!absl::StartsWith(path, "/")) return false;
  path.remove_prefix(1);
  const size_t slash = path.find('/');
  if (slash == absl::string_view::npos || slash == 0 || slash + 1 == path.size()) return false;
  service = std::string(path.substr(0, slash));
  method = std::string(path.substr(slash + 1));
  if (service == "grpc.health.v1.Health") return method == "Check" || method == "Watch";
  const google::protobuf::ServiceDescriptor* descriptor =
      google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(service);
  return descriptor != nullptr && descriptor->FindMethodByName(method) != nullptr;
}

// One call: counted as started when created, as handled with its status when it sends it.
class CallInterceptor final : public grpc::experimental::Interceptor {
 public:
  CallInterceptor(GrpcServerMetrics& metrics, GrpcMethodMetrics& method)
      : metrics_(metrics), method_(method), start_(std::chrono::steady_clock::now()) {
    method_.started->Increment();
  }

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_STATUS)) {
      const double seconds =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
      metrics_.Handled(method_, methods->GetSendStatus().error_code(), seconds);
    }
    methods->Proceed();
  }

 private:
  GrpcServerMetrics& metrics_;
  GrpcMethodMetrics& method_;
  const std::chrono::steady_clock::time_point start_;
};

}  // namespace

GrpcServerMetrics::GrpcServerMetrics(prometheus::Registry& registry)
    : started_(prometheus::BuildCounter()
                   .Name("grpc_server_started_total")
                   .Help("RPCs started on the server")
                   .Register(registry)),
      handled_(prometheus::BuildCounter()
                   .Name("grpc_server_handled_total")
                   .Help("RPCs completed on the server, by status code")
                   .Register(registry)),
      handling_seconds_(prometheus::BuildHistogram()
                            .Name("grpc_server_handling_seconds")
                            .Help("Time from the start of an RPC to its status, in seconds")
                            .Register(registry)) {}

grpc::experimental::Interceptor* GrpcServerMetrics::CreateServerInterceptor(ServerRpcInfo* info) {
  return new CallInterceptor(*this, MethodMetrics(info->method(), info->type()));
}

GrpcMethodMetrics& GrpcServerMetrics::MethodMetrics(const char* path, ServerRpcInfo::Type type) {
  const absl::string_view requested = path == nullptr ? "" : path;
  {
    // Every call after a method's first finds it here, with no descriptor lookup.
    absl::ReaderMutexLock lock(&mu_);
    auto it = methods_.find(requested);
    if (it != methods_.end()) return *it->second;
  }

  // Only methods the server knows get entries of their own, so callers cannot grow the map.
  std::string service;
  std::string method;
  const bool known = KnownMethod(requested, service, method);
  if (!known) service = method = "unknown";
  absl::MutexLock lock(&mu_);
  std::unique_ptr<GrpcMethodMetrics>& entry = methods_[known ? requested : "unknown"];
  if (entry == nullptr) {
    entry = std::make_unique<GrpcMethodMetrics>();
    entry->labels = {
        {"grpc_service", service}, {"grpc_method", method}, {"grpc_type", TypeName(type)}};
    entry->started = &started_.Add(entry->labels);
    // From 0.5 ms to about 33 s, doubling: searches take milliseconds, streamed answers seconds.
    prometheus::Histogram::BucketBoundaries buckets;
    for (double bound = 0.0005; bound < 40; bound *= 2) buckets.push_back(bound);
    entry->handling_seconds = &handling_seconds_.Add(entry->labels, std::move(buckets));
  }
  return *entry;
}

void GrpcServerMetrics::Handled(GrpcMethodMetrics& method, int code, double seconds) {
  if (code < 0 || code > 16) code = 2;  // UNKNOWN
  method.handling_seconds->Observe(seconds);
  prometheus::Counter* counter = method.handled[code].load(std::memory_order_acquire);
  if (counter == nullptr) {
    // The first call of this method to end with this code adds its series.
    absl::MutexLock lock(&mu_);
    counter = method.handled[code].load(std::memory_order_relaxed);
    if (counter == nullptr) {
      prometheus::Labels labels = method.labels;
      labels["grpc_code"] = CodeName(code);
      counter = &handled_.Add(labels);
      method.handled[code].store(counter, std::memory_order_release);
    }
  }
  counter->Increment();
}

}  // namespace quarry::runtime
