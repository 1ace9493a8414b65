// A TCP proxy on loopback that delays everything the upstream server sends back by a fixed
// time, to make a real replica slow without changing it.
#ifndef QUARRY_TESTS_DELAY_PROXY_H_
#define QUARRY_TESTS_DELAY_PROXY_H_

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace quarry::testing {

class DelayProxy {
 public:
  // Forwards 127.0.0.1:port() to `upstream_port`, delaying replies by `delay`.
  DelayProxy(int upstream_port, std::chrono::milliseconds delay);
  ~DelayProxy();

  int port() const { return port_; }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }

 private:
  void AcceptLoop();
  void Serve(int client);

  const int upstream_port_;
  const std::chrono::milliseconds delay_;
  int listener_ = -1;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  std::thread acceptor_;
  std::mutex mu_;
  std::vector<std::thread> connections_;  // guarded by mu_
  std::vector<int> sockets_;              // guarded by mu_
};

}  // namespace quarry::testing

#endif  // QUARRY_TESTS_DELAY_PROXY_H_
