#include "tests/delay_proxy.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <condition_variable>
#include <deque>

namespace quarry::testing {
namespace {

using Clock = std::chrono::steady_clock;

int ConnectLoopback(int port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    close(fd);
    return -1;
  }
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  return fd;
}

bool SendAll(int fd, const char* data, size_t size) {
  while (size > 0) {
    ssize_t n = send(fd, data, size, MSG_NOSIGNAL);
    if (n <= 0) return false;
    data += n;
    size -= n;
  }
  return true;
}

}  // namespace

DelayProxy::DelayProxy(int upstream_port, std::chrono::milliseconds delay)
    : upstream_port_(upstream_port), delay_(delay) {
  listener_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(listener_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  listen(listener_, 64);
  socklen_t length = sizeof(addr);
  getsockname(listener_, reinterpret_cast<sockaddr*>(&addr), &length);
  port_ = ntohs(addr.sin_port);
  acceptor_ = std::thread([this] { AcceptLoop(); });
}

DelayProxy::~DelayProxy() {
  stopping_ = true;
  shutdown(listener_, SHUT_RDWR);
  close(listener_);
  acceptor_.join();
  std::vector<std::thread> connections;
  {
    std::lock_guard lock(mu_);
    for (int fd : sockets_) shutdown(fd, SHUT_RDWR);
    connections.swap(connections_);
  }
  for (std::thread& connection : connections) connection.join();
  for (int fd : sockets_) close(fd);
}

void DelayProxy::AcceptLoop() {
  while (!stopping_) {
    int client = accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
    if (client < 0) return;
    int one = 1;
    setsockopt(client, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    std::lock_guard lock(mu_);
    sockets_.push_back(client);
    connections_.emplace_back([this, client] { Serve(client); });
  }
}

void DelayProxy::Serve(int client) {
  int upstream = ConnectLoopback(upstream_port_);
  if (upstream < 0) {
    shutdown(client, SHUT_RDWR);
    return;
  }
  {
    std::lock_guard lock(mu_);
    sockets_.push_back(upstream);
  }
  // Requests pass at once; replies wait in a queue until they are `delay_` old.
  std::thread forward([client, upstream] {
    char buffer[1 << 16];
    ssize_t n;
    while ((n = recv(client, buffer, sizeof(buffer), 0)) > 0) {
      if (!SendAll(upstream, buffer, n)) break;
    }
    shutdown(upstream, SHUT_WR);
  });
  std::mutex mu;
  std::condition_variable ready;
  std::deque<std::pair<Clock::time_point, std::string>> queue;
  bool closed = false;
  std::thread replies([&] {
    std::unique_lock lock(mu);
    while (true) {
      ready.wait(lock, [&] { return closed || !queue.empty(); });
      if (queue.empty()) return;
      auto [due, bytes] = std::move(queue.front());
      queue.pop_front();
      lock.unlock();
      std::this_thread::sleep_until(due);
      bool sent = SendAll(client, bytes.data(), bytes.size());
      lock.lock();
      if (!sent) return;
    }
  });
  char buffer[1 << 16];
  ssize_t n;
  while ((n = recv(upstream, buffer, sizeof(buffer), 0)) > 0) {
    std::lock_guard lock(mu);
    queue.emplace_back(Clock::now() + delay_, std::string(buffer, n));
    ready.notify_one();
  }
  {
    std::lock_guard lock(mu);
    closed = true;
    ready.notify_one();
  }
  replies.join();
  shutdown(client, SHUT_RDWR);
  forward.join();
}

}  // namespace quarry::testing
