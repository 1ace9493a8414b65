#include "tests/http_test_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace quarry::testing {
namespace {

using Clock = std::chrono::steady_clock;

constexpr size_t kMaxHeaderBytes = 64 << 10;
constexpr size_t kMaxBodyBytes = size_t{1} << 30;

absl::string_view Reason(int status) {
  switch (status) {
    case 100:
      return "Continue";
    case 200:
      return "OK";
    case 204:
      return "No Content";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 408:
      return "Request Timeout";
    case 413:
      return "Content Too Large";
    case 422:
      return "Unprocessable Content";
    case 429:
      return "Too Many Requests";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 502:
      return "Bad Gateway";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Gateway Timeout";
    default:
      return "Status";
  }
}

const std::string* FindHeader(const HttpHeaders& headers, absl::string_view name) {
  for (const auto& [key, value] : headers) {
    if (absl::EqualsIgnoreCase(key, name)) return &value;
  }
  return nullptr;
}

// Parses the request line and headers of `head` (without the blank line that ends it).
bool ParseHead(absl::string_view head, HttpRequest& request) {
  std::vector<absl::string_view> lines = absl::StrSplit(head, "\r\n");
  std::vector<absl::string_view> parts = absl::StrSplit(lines[0], ' ');
  if (parts.size() != 3 || parts[0].empty() || parts[1].empty() ||
      !absl::StartsWith(parts[2], "HTTP/1.")) {
    return false;
  }
  request.method = std::string(parts[0]);
  request.path = std::string(parts[1]);
  for (size_t i = 1; i < lines.size(); ++i) {
    const size_t colon = lines[i].find(':');
    if (colon == absl::string_view::npos || colon == 0) return false;
    request.headers.emplace_back(
        std::string(lines[i].substr(0, colon)),
        std::string(absl::StripAsciiWhitespace(lines[i].substr(colon + 1))));
  }
  return true;
}

}  // namespace

std::optional<std::string> HttpRequest::Header(absl::string_view name) const {
  const std::string* value = FindHeader(headers, name);
  if (value == nullptr) return std::nullopt;
  return *value;
}

bool HttpResponseWriter::SendAll(absl::string_view data) {
  while (!failed_ && !data.empty()) {
    const ssize_t sent = send(socket_, data.data(), data.size(), MSG_NOSIGNAL);
    if (sent < 0 && errno == EINTR) continue;
    if (sent <= 0) {
      failed_ = true;
      break;
    }
    data.remove_prefix(sent);
  }
  return !failed_;
}

bool HttpResponseWriter::ClientClosed(int timeout_ms) {
  const Clock::time_point deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  while (true) {
    const int left = static_cast<int>(std::max<int64_t>(
        0, std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count()));
    pollfd fd{socket_, POLLIN | POLLRDHUP, 0};
    const int ready = poll(&fd, 1, left);
    if (ready < 0 && errno == EINTR) continue;
    if (ready < 0) return true;
    if (ready == 0) return false;
    if (fd.revents & (POLLERR | POLLHUP | POLLNVAL)) return true;
    // Whatever the client sends after its request is of no use; reading it shows an EOF.
    char buffer[4096];
    const ssize_t n = recv(socket_, buffer, sizeof(buffer), MSG_DONTWAIT);
    if (n == 0) return true;
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) return true;
    if (left == 0) return false;
  }
}

bool HttpResponseWriter::WriteHead(int status, const HttpHeaders& headers) {
  if (head_written_ || failed_) return false;
  head_written_ = true;
  chunked_ = FindHeader(headers, "Content-Length") == nullptr;

  std::string head = absl::StrCat("HTTP/1.1 ", status, " ", Reason(status), "\r\n");
  for (const auto& [name, value] : headers) absl::StrAppend(&head, name, ": ", value, "\r\n");
  if (chunked_) absl::StrAppend(&head, "Transfer-Encoding: chunked\r\n");
  absl::StrAppend(&head, "Connection: close\r\n\r\n");
  return SendAll(head);
}

bool HttpResponseWriter::Write(absl::string_view data) {
  if (!head_written_ || finished_ || failed_) return false;
  // A socket accepts writes for a while after the peer has gone; look before sending.
  if (ClientClosed(0)) {
    failed_ = true;
    return false;
  }
  if (data.empty()) return true;  // an empty chunk would end the body
  if (!chunked_) return SendAll(data);
  return SendAll(absl::StrCat(absl::Hex(data.size()), "\r\n", data, "\r\n"));
}

bool HttpResponseWriter::Send(const HttpResponse& response) {
  HttpHeaders headers = response.headers;
  if (FindHeader(headers, "Content-Length") == nullptr) {
    headers.emplace_back("Content-Length", absl::StrCat(response.body.size()));
  }
  return WriteHead(response.status, headers) && SendAll(response.body);
}

bool HttpResponseWriter::WaitForClientClose(std::chrono::milliseconds limit) {
  return ClientClosed(static_cast<int>(limit.count()));
}

void HttpResponseWriter::Finish() {
  if (chunked_ && !finished_) SendAll("0\r\n\r\n");
  finished_ = true;
}

absl::StatusOr<std::unique_ptr<HttpTestServer>> HttpTestServer::Start(Handler handler) {
  return StartStreaming(
      [handler = std::move(handler)](const HttpRequest& request, HttpResponseWriter& writer) {
        writer.Send(handler(request));
      });
}

absl::StatusOr<std::unique_ptr<HttpTestServer>> HttpTestServer::StartStreaming(
    StreamingHandler handler) {
  const int listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (listener < 0) return absl::ErrnoToStatus(errno, "socket");
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof(address);
  if (bind(listener, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0 ||
      listen(listener, 128) != 0 ||
      getsockname(listener, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    const int error = errno;
    close(listener);
    return absl::ErrnoToStatus(error, "binding 127.0.0.1:0");
  }
  return std::unique_ptr<HttpTestServer>(
      new HttpTestServer(listener, ntohs(address.sin_port), std::move(handler)));
}

HttpTestServer::HttpTestServer(int listener, int port, StreamingHandler handler)
    : listener_(listener), port_(port), handler_(std::move(handler)) {
  acceptor_ = std::thread([this] { AcceptLoop(); });
}

HttpTestServer::~HttpTestServer() {
  stopping_ = true;
  shutdown(listener_, SHUT_RDWR);
  acceptor_.join();
  close(listener_);

  // Shutting the sockets down wakes handlers blocked on them; the threads need mu_ to finish,
  // so they are joined outside it.
  std::list<Connection> connections;
  {
    absl::MutexLock lock(&mu_);
    for (Connection& connection : connections_) shutdown(connection.socket, SHUT_RDWR);
    connections.splice(connections.end(), connections_);
  }
  for (Connection& connection : connections) {
    connection.thread.join();
    close(connection.socket);
  }
}

std::string HttpTestServer::url() const { return absl::StrCat("http://127.0.0.1:", port_); }

std::vector<HttpRequest> HttpTestServer::requests() const {
  absl::MutexLock lock(&mu_);
  return requests_;
}

size_t HttpTestServer::request_count() const {
  absl::MutexLock lock(&mu_);
  return requests_.size();
}

void HttpTestServer::AcceptLoop() {
  while (!stopping_) {
    const int socket = accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
    if (socket < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      return;  // the listener was shut down
    }
    // Small writes such as one server-sent event must leave at once.
    int one = 1;
    setsockopt(socket, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));

    absl::MutexLock lock(&mu_);
    ReapFinishedLocked();
    Connection& connection = connections_.emplace_back();
    connection.socket = socket;
    connection.thread = std::thread([this, &connection] {
      Serve(connection);
      connection.done = true;
    });
  }
}

void HttpTestServer::ReapFinishedLocked() {
  for (auto it = connections_.begin(); it != connections_.end();) {
    if (!it->done) {
      ++it;
      continue;
    }
    it->thread.join();
    close(it->socket);
    it = connections_.erase(it);
  }
}

void HttpTestServer::Serve(Connection& connection) {
  const int socket = connection.socket;
  HttpResponseWriter writer(socket);
  auto reject = [&](int status, absl::string_view why) {
    writer.Send({status, {{"Content-Type", "text/plain"}}, std::string(why)});
    shutdown(socket, SHUT_WR);
  };

  // The head: everything up to the first blank line.
  std::string received;
  size_t head_end;
  char buffer[1 << 16];
  while ((head_end = received.find("\r\n\r\n")) == std::string::npos) {
    if (received.size() > kMaxHeaderBytes) return reject(431, "request head too large");
    const ssize_t n = recv(socket, buffer, sizeof(buffer), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // closed before sending a whole request
    received.append(buffer, n);
  }
  HttpRequest request;
  if (!ParseHead(absl::string_view(received).substr(0, head_end), request)) {
    return reject(400, "malformed request head");
  }
  if (request.Header("Transfer-Encoding").has_value()) {
    return reject(501, "chunked request bodies are not supported");
  }

  // The body, as long as Content-Length says.
  size_t body_size = 0;
  if (std::optional<std::string> length = request.Header("Content-Length")) {
    if (!absl::SimpleAtoi(*length, &body_size) || body_size > kMaxBodyBytes) {
      return reject(400, "bad Content-Length");
    }
  }
  request.body = received.substr(head_end + 4);
  if (request.body.size() < body_size) {
    std::optional<std::string> expect = request.Header("Expect");
    if (expect.has_value() && absl::EqualsIgnoreCase(*expect, "100-continue")) {
      const std::string go_on = "HTTP/1.1 100 Continue\r\n\r\n";
      send(socket, go_on.data(), go_on.size(), MSG_NOSIGNAL);
    }
  }
  while (request.body.size() < body_size) {
    const ssize_t n =
        recv(socket, buffer, std::min(sizeof(buffer), body_size - request.body.size()), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    request.body.append(buffer, n);
  }
  request.body.resize(body_size);  // bytes past the body would be a second request: not served

  {
    absl::MutexLock lock(&mu_);
    requests_.push_back(request);
  }
  handler_(request, writer);
  if (writer.head_written()) writer.Finish();
  shutdown(socket, SHUT_WR);
}

}  // namespace quarry::testing
