// Runs the real `quarry` binary as a child process for tests that cross processes: it starts
// a service (`quarry shard`, `quarry router`, ...) on a free loopback port, waits for gRPC
// health to say SERVING, hands out stubs, and stops the process with SIGTERM or SIGKILL.
#ifndef QUARRY_TESTS_QUARRY_PROCESS_H_
#define QUARRY_TESTS_QUARRY_PROCESS_H_

#include <grpcpp/grpcpp.h>
#include <sys/types.h>

#include <chrono>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "quarry/v1/router.grpc.pb.h"
#include "quarry/v1/shard.grpc.pb.h"

namespace quarry::testing {

// The `quarry` binary under test: $QUARRY_BIN, set by CTest.
std::string QuarryBinary();

// What a `quarry` command that runs to completion did.
struct CommandResult {
  int exit_code = -1;  // -1: killed, or did not finish in time
  std::string out;
  std::string err;
};

// Runs `quarry <args>` to completion (SIGKILL after `timeout`), stdin from /dev/null, with
// `environment` (NAME, value pairs) added to this process's environment.
CommandResult RunQuarry(const std::vector<std::string>& args,
                        std::chrono::milliseconds timeout = std::chrono::seconds(120),
                        const std::vector<std::pair<std::string, std::string>>& environment = {});

// A run of free loopback ports for a command that takes a base port (`quarry local
// --base-port P`): P .. P + span and the metrics ports P + 1000 .. P + 1000 + span are all free
// when this returns. 0 when none was found.
int FreeBasePort(int span);

class QuarryProcess {
 public:
  // Runs `quarry <command> <args>`; --listen and --port-file are added.
  QuarryProcess(std::string command, std::vector<std::string> args);
  // Runs `quarry <command> <args>` as given, for a command that listens on an address it is
  // told (as `quarry local` does on its base port); Start waits for `address` to be SERVING.
  QuarryProcess(std::string command, std::vector<std::string> args, std::string address);
  ~QuarryProcess();  // SIGKILLs the process if it still runs

  // How the test talks to the process (health checks and stubs); plaintext by default. Call
  // before Start.
  void SetChannelCredentials(std::shared_ptr<grpc::ChannelCredentials> credentials) {
    credentials_ = std::move(credentials);
  }

  // Starts the process and waits until it is SERVING or `timeout` passes. A process started
  // again (after Kill or Terminate) listens on the address it had.
  absl::Status Start(std::chrono::milliseconds timeout = std::chrono::seconds(60));

  // Sends SIGTERM and waits for the exit status (-1 when it did not exit in time).
  int Terminate(std::chrono::milliseconds timeout = std::chrono::seconds(60));
  // Sends SIGKILL and reaps the process.
  void Kill();
  // Waits for a process that is expected to exit by itself; returns its exit status.
  int WaitForExit(std::chrono::milliseconds timeout);

  // Sends `signal_number` to the process.
  void Signal(int signal_number);

  // Stops the process without reaping it, and lets it go on again.
  void Pause();
  void Resume();

  v1::Shard::Stub& stub() { return *shard_stub_; }
  v1::Router::Stub& router() { return *router_stub_; }
  const std::string& address() const { return address_; }
  const std::shared_ptr<grpc::Channel>& channel() const { return channel_; }
  // What the process wrote to stderr so far.
  std::string Log() const;

 private:
  std::string command_;
  bool adds_listen_ = true;
  std::string listen_ = "127.0.0.1:0";
  std::vector<std::string> args_;
  std::string port_file_;
  std::string log_file_;
  pid_t pid_ = -1;
  std::string address_;
  std::shared_ptr<grpc::ChannelCredentials> credentials_ = grpc::InsecureChannelCredentials();
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::Shard::Stub> shard_stub_;
  std::unique_ptr<v1::Router::Stub> router_stub_;
};

// The `quarry shard` process of the tests.
class ShardProcess : public QuarryProcess {
 public:
  explicit ShardProcess(std::vector<std::string> args) : QuarryProcess("shard", std::move(args)) {}
};

}  // namespace quarry::testing

#endif  // QUARRY_TESTS_QUARRY_PROCESS_H_
