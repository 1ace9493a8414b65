// A small HTTP/1.1 server for Prometheus scrapes: GET /metrics answers with the text a
// callback renders; any other path is 404 and any other method 405. One thread accepts and
// answers connections one at a time (a scrape every few seconds needs no more), closing each
// after its response; a client that sends nothing for a few seconds is dropped. Stopping is
// immediate.
//
// Thread-safe: the destructor may run while a scrape is answered; it waits for it.
#ifndef QUARRY_SERVICES_RUNTIME_METRICS_HTTP_SERVER_H_
#define QUARRY_SERVICES_RUNTIME_METRICS_HTTP_SERVER_H_

#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "absl/status/statusor.h"

namespace quarry::runtime {

class MetricsHttpServer {
 public:
  using Render = std::function<std::string()>;

  // Listens on `address` ("host:port", "[v6]:port"; port 0 picks one). UNAVAILABLE naming the
  // address when it cannot.
  static absl::StatusOr<std::unique_ptr<MetricsHttpServer>> Start(const std::string& address,
                                                                  Render render);
  ~MetricsHttpServer();  // stops serving
  MetricsHttpServer(const MetricsHttpServer&) = delete;
  MetricsHttpServer& operator=(const MetricsHttpServer&) = delete;

  int port() const { return port_; }

 private:
  MetricsHttpServer(int listener, int port, Render render);

  void AcceptLoop();
  void Answer(int connection);

  const int listener_;
  const int port_;
  const Render render_;
  int wake_[2] = {-1, -1};  // a pipe: writing to wake_[1] stops AcceptLoop
  std::thread thread_;
};

}  // namespace quarry::runtime

#endif  // QUARRY_SERVICES_RUNTIME_METRICS_HTTP_SERVER_H_
