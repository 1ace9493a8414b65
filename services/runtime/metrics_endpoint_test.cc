#include "services/runtime/metrics_endpoint.h"

#include <arpa/inet.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <prometheus/counter.h>
#include <sys/socket.h>
#include <unistd.h>

#include <condition_variable>
#include <mutex>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "services/runtime/call_gate.h"
#include "services/runtime/server.h"

namespace quarry::runtime {
namespace {

// Sends `request_line` (GET /metrics by default) over HTTP/1.0 on loopback; the whole
// response, headers included.
std::string HttpGet(int port, const std::string& request_line = "GET /metrics") {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string response;
  if (connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0) {
    const std::string request = request_line + " HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
    if (write(fd, request.data(), request.size()) == static_cast<ssize_t>(request.size())) {
      char buffer[4096];
      ssize_t n;
      while ((n = read(fd, buffer, sizeof(buffer))) > 0) response.append(buffer, n);
    }
  }
  close(fd);
  return response;
}

TEST(MetricsAddress, IsTheGrpcPortPlusOneThousandOnTheSameHost) {
  EXPECT_EQ(*MetricsAddress("", "127.0.0.1:7310", 7310), "127.0.0.1:8310");
  EXPECT_EQ(*MetricsAddress("", "0.0.0.0:7300", 7300), "0.0.0.0:8300");
  EXPECT_EQ(*MetricsAddress("", "localhost:7301", 7301), "127.0.0.1:8301");
  EXPECT_EQ(*MetricsAddress("", ":7300", 7300), "0.0.0.0:8300");
}

TEST(MetricsAddress, FollowsAFreelyPickedGrpcPortAndHonoursOverrides) {
  EXPECT_EQ(*MetricsAddress("", "127.0.0.1:0", 41234), "127.0.0.1:0");
  EXPECT_EQ(*MetricsAddress("127.0.0.1:9100", "127.0.0.1:7310", 7310), "127.0.0.1:9100");
  EXPECT_EQ(*MetricsAddress("off", "127.0.0.1:7310", 7310), "");
  absl::StatusOr<std::string> too_high = MetricsAddress("", "127.0.0.1:65000", 65000);
  EXPECT_EQ(too_high.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(too_high.status().message(), "--metrics-listen"));
}

TEST(MetricsEndpoint, ServesRegisteredAndScrapedValuesAsPrometheusText) {
  MetricsEndpoint metrics("test");
  prometheus::BuildCounter()
      .Name("quarry_test_events_total")
      .Help("Events")
      .Register(metrics.registry())
      .Add({{"kind", "a"}})
      .Increment(3);
  metrics.AddScraped([] {
    return std::vector<ScrapedValue>{
        {"quarry_test_items", "Items", prometheus::MetricType::Gauge, {{"state", "x"}}, 7},
        {"quarry_test_items", "Items", prometheus::MetricType::Gauge, {{"state", "y"}}, 8}};
  });
  ASSERT_TRUE(metrics.Serve("127.0.0.1:0").ok());
  ASSERT_GT(metrics.port(), 0);

  const std::string text = HttpGet(metrics.port());
  EXPECT_TRUE(absl::StartsWith(text, "HTTP/1.1 200")) << text;
  EXPECT_TRUE(absl::StrContains(text, "quarry_test_events_total{kind=\"a\"} 3")) << text;
  EXPECT_TRUE(absl::StrContains(text, "# TYPE quarry_test_items gauge")) << text;
  EXPECT_TRUE(absl::StrContains(text, "quarry_test_items{state=\"x\"} 7")) << text;
  EXPECT_TRUE(absl::StrContains(text, "quarry_test_items{state=\"y\"} 8")) << text;
  EXPECT_TRUE(absl::StrContains(text, "quarry_build_info{service=\"test\"")) << text;
  EXPECT_TRUE(absl::StrContains(text, "process_resident_memory_bytes ")) << text;
}

TEST(MetricsEndpoint, AnswersOnlyGetOfMetrics) {
  MetricsEndpoint metrics("test");
  ASSERT_TRUE(metrics.Serve("127.0.0.1:0").ok());
  EXPECT_TRUE(absl::StartsWith(HttpGet(metrics.port(), "GET /other"), "HTTP/1.1 404"));
  EXPECT_TRUE(absl::StartsWith(HttpGet(metrics.port(), "POST /metrics"), "HTTP/1.1 405"));
  const std::string head = HttpGet(metrics.port(), "HEAD /metrics");
  EXPECT_TRUE(absl::StartsWith(head, "HTTP/1.1 200")) << head;
  EXPECT_TRUE(absl::EndsWith(head, "\r\n\r\n")) << head;
  EXPECT_TRUE(absl::StartsWith(HttpGet(metrics.port(), "GET /metrics?x=1"), "HTTP/1.1 200"));
}

TEST(MetricsEndpoint, APortInUseIsAClearError) {
  MetricsEndpoint first("first");
  ASSERT_TRUE(first.Serve("127.0.0.1:0").ok());
  MetricsEndpoint second("second");
  absl::Status status = second.Serve(absl::StrCat("127.0.0.1:", first.port()));
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable);
  EXPECT_TRUE(absl::StrContains(status.message(), absl::StrCat(first.port()))) << status;
}

TEST(GrpcServerMetrics, CountsKnownMethodsByNameAndUnknownOnesTogether) {
  MetricsEndpoint metrics("test");
  GrpcServerOptions options;
  options.metrics = &metrics;
  absl::StatusOr<RunningServer> running = StartGrpcServer(options, {});
  ASSERT_TRUE(running.ok()) << running.status();
  SetServing(*running, true);
  ASSERT_TRUE(metrics.Serve("127.0.0.1:0").ok());
  auto channel = grpc::CreateChannel(absl::StrCat("127.0.0.1:", running->port),
                                     grpc::InsecureChannelCredentials());

  // A health check: a method the server knows.
  auto health = grpc::health::v1::Health::NewStub(channel);
  grpc::ClientContext context;
  grpc::health::v1::HealthCheckRequest request;
  grpc::health::v1::HealthCheckResponse response;
  ASSERT_TRUE(health->Check(&context, request, &response).ok());

  // Methods a caller made up must not become label values.
  grpc::GenericStub generic(channel);
  for (const char* method : {"/made.up.Service/Method", "/another.Invented/Call"}) {
    grpc::ClientContext call;
    grpc::ByteBuffer reply;
    grpc::Slice nothing("");
    grpc::ByteBuffer empty(&nothing, 1);
    std::mutex mu;
    std::condition_variable cv;
    bool done = false;
    grpc::Status status;
    generic.UnaryCall(&call, method, grpc::StubOptions(), &empty, &reply, [&](grpc::Status s) {
      std::lock_guard lock(mu);
      status = s;
      done = true;
      cv.notify_all();
    });
    std::unique_lock lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(10), [&] { return done; }));
    EXPECT_EQ(status.error_code(), grpc::StatusCode::UNIMPLEMENTED);
  }

  const std::string text = HttpGet(metrics.port());
  EXPECT_TRUE(absl::StrContains(text,
                                "grpc_server_handled_total{grpc_code=\"OK\",grpc_method=\"Check\","
                                "grpc_service=\"grpc.health.v1.Health\",grpc_type=\"unary\"} 1"))
      << text;
  EXPECT_TRUE(absl::StrContains(
      text,
      "grpc_server_handled_total{grpc_code=\"Unimplemented\",grpc_method=\"unknown\","
      "grpc_service=\"unknown\",grpc_type=\"bidi_stream\"} 2"))
      << text;
  EXPECT_FALSE(absl::StrContains(text, "made.up")) << text;
  EXPECT_FALSE(absl::StrContains(text, "Invented")) << text;
  running->server->Shutdown();
}

}  // namespace
}  // namespace quarry::runtime
