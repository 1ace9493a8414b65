// One `quarry shard` child process on a loopback port, for the benchmark to drive over gRPC.
//
// Start spawns the binary with a free port and returns once the shard has written that port;
// WaitUntilServing then polls the standard gRPC health service until the index is loaded.
// The child gets SIGTERM when this object is destroyed (and, as a safety net, when the
// benchmark process dies), and is always waited for.
//
// Thread-safety: NewChannel, Stats and ResidentBytes may be called from any thread; Start,
// WaitUntilServing and Stop from one thread at a time.
#ifndef QUARRY_BENCH_SHARD_PROCESS_H_
#define QUARRY_BENCH_SHARD_PROCESS_H_

#include <grpcpp/grpcpp.h>
#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "quarry/v1/shard.grpc.pb.h"

namespace quarry::bench {

struct ShardLaunchOptions {
  std::string binary;      // the `quarry` executable
  std::string data_dir;    // DIR for --data; its sibling files hold the port and the log
  std::string index_spec;  // --index
  int dimension = 128;
  size_t train_min = 0;  // --train-min; 0 leaves the shard's default
  int shard_id = -1;     // --shard-id, the shard's number in a cluster; -1 leaves it out
};

class ShardProcess {
 public:
  using Seconds = std::chrono::duration<double>;

  // Spawns the shard and waits up to `timeout` for it to report its port. The shard logs at
  // level warn into `<data_dir>.log`; errors quote the end of that log.
  static absl::StatusOr<std::unique_ptr<ShardProcess>> Start(const ShardLaunchOptions& options,
                                                             Seconds timeout);

  ShardProcess(const ShardProcess&) = delete;
  ShardProcess& operator=(const ShardProcess&) = delete;
  ~ShardProcess();  // stops the shard if it is still running

  // Polls grpc.health.v1 Check (service "") until it answers SERVING.
  [[nodiscard]] absl::Status WaitUntilServing(Seconds timeout);

  // A channel with a connection of its own, so that each client thread gets one.
  std::shared_ptr<grpc::Channel> NewChannel() const;

  // `count` stubs, each on a connected channel of its own: one per client thread.
  absl::StatusOr<std::vector<std::unique_ptr<v1::Shard::Stub>>> ConnectClients(int count) const;

  absl::StatusOr<v1::StatsResponse> Stats() const;

  // Polls Stats until the shard holds `chunks` chunks, its index is the trained spec and no
  // fresh write is left in the exact-search buffer. Returns the last Stats.
  absl::StatusOr<v1::StatsResponse> WaitUntilIndexed(uint64_t chunks, Seconds timeout);

  // Resident set size of the shard process, from /proc/<pid>/status.
  absl::StatusOr<uint64_t> ResidentBytes() const;

  // Sends SIGTERM and waits up to `timeout` for the shard to exit (SIGKILL after that). OK
  // only when it exited with status 0, i.e. drained and wrote its snapshot.
  [[nodiscard]] absl::Status Stop(Seconds timeout);

  // When the process was spawned.
  std::chrono::steady_clock::time_point started() const { return started_; }
  int port() const { return port_; }
  pid_t pid() const { return pid_; }

 private:
  ShardProcess(pid_t pid, std::string log_path, std::chrono::steady_clock::time_point started);

  // FAILED_PRECONDITION, quoting the log, when the child has exited on its own.
  absl::Status CheckRunning();
  std::string LogTail() const;

  pid_t pid_;  // -1 once the child has been reaped
  const std::string log_path_;
  const std::chrono::steady_clock::time_point started_;
  int port_ = 0;
  std::shared_ptr<grpc::Channel> control_channel_;
  std::unique_ptr<v1::Shard::Stub> control_stub_;
};

}  // namespace quarry::bench

#endif  // QUARRY_BENCH_SHARD_PROCESS_H_
