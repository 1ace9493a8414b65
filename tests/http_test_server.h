// A small HTTP/1.1 server on 127.0.0.1 for tests that need a real endpoint to talk to: a fake
// embedding or chat-completion server, say.
//
// Each connection carries one request (with a Content-Length body, if any) and is closed after
// the response. A handler either returns the whole response, or writes it over time through an
// HttpResponseWriter, which is how a test serves server-sent events. Every request is recorded
// before its handler runs, so a test can assert on what a client sent.
//
// Thread-safe: each connection is served on its own thread, so handlers may run concurrently
// and must synchronise whatever state they share. The destructor closes the listener and every
// open connection, then waits for the handlers to return.
#ifndef QUARRY_TESTS_HTTP_TEST_SERVER_H_
#define QUARRY_TESTS_HTTP_TEST_SERVER_H_

#include <atomic>
#include <chrono>
#include <functional>
#include <list>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"

namespace quarry::testing {

using HttpHeaders = std::vector<std::pair<std::string, std::string>>;

struct HttpRequest {
  std::string method;   // "POST"
  std::string path;     // the request target as sent, query included: "/v1/embeddings"
  HttpHeaders headers;  // in the order received
  std::string body;

  // The first header called `name`, compared without case; nullopt when there is none.
  std::optional<std::string> Header(absl::string_view name) const;
};

struct HttpResponse {
  int status = 200;
  HttpHeaders headers;  // Content-Length and Connection are added
  std::string body;
};

// Writes one response to one connection. The writing calls return false once the client has
// closed the connection (or the server is shutting down), so a streaming handler knows when to
// stop.
class HttpResponseWriter {
 public:
  explicit HttpResponseWriter(int socket) : socket_(socket) {}
  HttpResponseWriter(const HttpResponseWriter&) = delete;
  HttpResponseWriter& operator=(const HttpResponseWriter&) = delete;

  // Sends the status line and headers. Without a Content-Length among `headers` the body is
  // sent chunked, one chunk per Write, as real servers stream server-sent events.
  // REQUIRES: called at most once, before Write.
  bool WriteHead(int status, const HttpHeaders& headers = {});

  // Sends part of the body at once. REQUIRES: WriteHead was called.
  bool Write(absl::string_view data);

  // WriteHead with a Content-Length, and the body.
  bool Send(const HttpResponse& response);

  // Blocks until the client closes the connection (true) or `limit` passes (false); lets a
  // handler stall like a hung server without outliving the test.
  bool WaitForClientClose(std::chrono::milliseconds limit);

  bool head_written() const { return head_written_; }

 private:
  friend class HttpTestServer;

  // Ends a chunked body; the server calls it once the handler has returned.
  void Finish();
  // Waits up to `timeout_ms` (0: just looks) for the client to close its end.
  bool ClientClosed(int timeout_ms);
  bool SendAll(absl::string_view data);

  const int socket_;
  bool head_written_ = false;
  bool chunked_ = false;
  bool finished_ = false;
  bool failed_ = false;
};

class HttpTestServer {
 public:
  using Handler = std::function<HttpResponse(const HttpRequest&)>;
  // Writes the response itself; one that writes nothing makes the server close the connection
  // without an answer.
  using StreamingHandler = std::function<void(const HttpRequest&, HttpResponseWriter&)>;

  // Listens on an ephemeral port of 127.0.0.1.
  static absl::StatusOr<std::unique_ptr<HttpTestServer>> Start(Handler handler);
  static absl::StatusOr<std::unique_ptr<HttpTestServer>> StartStreaming(StreamingHandler handler);

  ~HttpTestServer();
  HttpTestServer(const HttpTestServer&) = delete;
  HttpTestServer& operator=(const HttpTestServer&) = delete;

  int port() const { return port_; }
  // "http://127.0.0.1:<port>", without a trailing slash.
  std::string url() const;

  // Every request received so far, in the order their headers and bodies were complete.
  std::vector<HttpRequest> requests() const;
  size_t request_count() const;

 private:
  struct Connection {
    int socket = -1;
    std::thread thread;
    std::atomic<bool> done{false};
  };

  HttpTestServer(int listener, int port, StreamingHandler handler);

  void AcceptLoop();
  void Serve(Connection& connection);
  // Joins and closes connections whose thread has finished.
  void ReapFinishedLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const int listener_;
  const int port_;
  const StreamingHandler handler_;
  std::atomic<bool> stopping_{false};
  std::thread acceptor_;

  mutable absl::Mutex mu_;
  std::list<Connection> connections_ ABSL_GUARDED_BY(mu_);
  std::vector<HttpRequest> requests_ ABSL_GUARDED_BY(mu_);
};

}  // namespace quarry::testing

#endif  // QUARRY_TESTS_HTTP_TEST_SERVER_H_
