#include "bench/shard_process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "grpc/health/v1/health.grpc.pb.h"

namespace quarry::bench {
namespace {

using Clock = std::chrono::steady_clock;

constexpr std::chrono::milliseconds kPollInterval{5};
constexpr std::chrono::milliseconds kIndexPollInterval{100};
constexpr std::chrono::seconds kConnectTimeout{10};
constexpr size_t kLogTailBytes = 2000;

std::string ErrnoText() { return std::strerror(errno); }

// Reads the port the shard wrote, or 0 while the file is missing or not yet complete (the
// shard ends it with a newline).
int ReadPortFile(const std::string& path) {
  std::ifstream file(path);
  std::stringstream contents;
  contents << file.rdbuf();
  const std::string whole = contents.str();
  absl::string_view text = whole;
  if (!absl::ConsumeSuffix(&text, "\n")) return 0;
  int port = 0;
  return absl::SimpleAtoi(text, &port) ? port : 0;
}

// Describes how a child ended, from a waitpid status.
std::string DescribeExit(int wait_status) {
  if (WIFEXITED(wait_status)) return absl::StrCat("exit status ", WEXITSTATUS(wait_status));
  if (WIFSIGNALED(wait_status)) return absl::StrCat("signal ", WTERMSIG(wait_status));
  return "an unknown state";
}

}  // namespace

ShardProcess::ShardProcess(pid_t pid, std::string log_path, Clock::time_point started)
    : pid_(pid), log_path_(std::move(log_path)), started_(started) {}

ShardProcess::~ShardProcess() {
  if (pid_ > 0) Stop(std::chrono::seconds(120)).IgnoreError();
}

absl::StatusOr<std::unique_ptr<ShardProcess>> ShardProcess::Start(const ShardLaunchOptions& options,
                                                                  Seconds timeout) {
  const std::string port_file = options.data_dir + ".port";
  const std::string log_path = options.data_dir + ".log";
  unlink(port_file.c_str());

  std::vector<std::string> args = {options.binary, "shard",
                                   "--listen",     "127.0.0.1:0",
                                   "--port-file",  port_file,
                                   "--data",       options.data_dir,
                                   "--dim",        absl::StrCat(options.dimension),
                                   "--index",      options.index_spec,
                                   "--metric",     "ip",
                                   "--log-level",  "warn"};
  if (options.shard_id >= 0) {
    args.push_back("--shard-id");
    args.push_back(absl::StrCat(options.shard_id));
  }
  if (options.train_min > 0) {
    args.push_back("--train-min");
    args.push_back(absl::StrCat(options.train_min));
  }
  std::vector<char*> argv;
  for (std::string& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);

  const int log_fd = open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log_fd < 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot open shard log '", log_path, "': ", ErrnoText()));
  }

  // Between fork and exec the child only makes async-signal-safe calls.
  const pid_t parent = getpid();
  const Clock::time_point started = Clock::now();
  const pid_t pid = fork();
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() != parent) _exit(127);
    dup2(log_fd, STDOUT_FILENO);
    dup2(log_fd, STDERR_FILENO);
    execv(argv[0], argv.data());
    _exit(127);
  }
  close(log_fd);
  if (pid < 0) return absl::InternalError(absl::StrCat("fork failed: ", ErrnoText()));
  std::unique_ptr<ShardProcess> process(new ShardProcess(pid, log_path, started));

  const Clock::time_point deadline = started + std::chrono::duration_cast<Clock::duration>(timeout);
  while ((process->port_ = ReadPortFile(port_file)) == 0) {
    absl::Status running = process->CheckRunning();
    if (!running.ok()) return running;
    if (Clock::now() > deadline) {
      return absl::DeadlineExceededError(
          absl::StrCat("the shard did not write its port to '", port_file, "' in time"));
    }
    std::this_thread::sleep_for(kPollInterval);
  }
  process->control_channel_ = process->NewChannel();
  process->control_stub_ = v1::Shard::NewStub(process->control_channel_);
  return process;
}

absl::Status ShardProcess::WaitUntilServing(Seconds timeout) {
  auto health = grpc::health::v1::Health::NewStub(control_channel_);
  const Clock::time_point deadline =
      Clock::now() + std::chrono::duration_cast<Clock::duration>(timeout);
  while (true) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(1));
    grpc::health::v1::HealthCheckRequest request;
    grpc::health::v1::HealthCheckResponse response;
    grpc::Status status = health->Check(&context, request, &response);
    if (status.ok() && response.status() == grpc::health::v1::HealthCheckResponse::SERVING) {
      return absl::OkStatus();
    }
    absl::Status running = CheckRunning();
    if (!running.ok()) return running;
    if (Clock::now() > deadline) {
      return absl::DeadlineExceededError("the shard did not become SERVING in time");
    }
    std::this_thread::sleep_for(kPollInterval);
  }
}

std::shared_ptr<grpc::Channel> ShardProcess::NewChannel() const {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  args.SetMaxReceiveMessageSize(64 << 20);
  args.SetMaxSendMessageSize(64 << 20);
  return grpc::CreateCustomChannel(absl::StrCat("127.0.0.1:", port_),
                                   grpc::InsecureChannelCredentials(), args);
}

absl::StatusOr<std::vector<std::unique_ptr<v1::Shard::Stub>>> ShardProcess::ConnectClients(
    int count) const {
  std::vector<std::unique_ptr<v1::Shard::Stub>> stubs;
  for (int i = 0; i < count; ++i) {
    std::shared_ptr<grpc::Channel> channel = NewChannel();
    if (!channel->WaitForConnected(std::chrono::system_clock::now() + kConnectTimeout)) {
      return absl::UnavailableError(absl::StrCat("cannot connect to the shard on port ", port_));
    }
    stubs.push_back(v1::Shard::NewStub(channel));
  }
  return stubs;
}

absl::StatusOr<v1::StatsResponse> ShardProcess::Stats() const {
  if (control_stub_ == nullptr) return absl::FailedPreconditionError("the shard was stopped");
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  v1::StatsResponse response;
  grpc::Status status = control_stub_->Stats(&context, v1::StatsRequest(), &response);
  if (!status.ok()) {
    return absl::UnavailableError(absl::StrCat("Stats failed: ", status.error_message()));
  }
  return response;
}

absl::StatusOr<v1::StatsResponse> ShardProcess::WaitUntilIndexed(uint64_t chunks, Seconds timeout) {
  const Clock::time_point deadline =
      Clock::now() + std::chrono::duration_cast<Clock::duration>(timeout);
  // A busy shard may answer Stats late while it indexes; that is waited out like the rest.
  absl::StatusOr<v1::StatsResponse> stats;
  while (true) {
    stats = Stats();
    if (stats.ok() && stats->chunks() == chunks && stats->trained() &&
        stats->vectors_buffered() == 0) {
      return stats;
    }
    absl::Status running = CheckRunning();
    if (!running.ok()) return running;
    if (Clock::now() > deadline) {
      if (!stats.ok()) return stats.status();
      return absl::DeadlineExceededError(absl::StrCat(
          "the shard did not finish indexing in time: ", stats->chunks(), " chunks, trained=",
          stats->trained(), ", ", stats->vectors_buffered(), " vectors buffered"));
    }
    std::this_thread::sleep_for(kIndexPollInterval);
  }
}

absl::StatusOr<uint64_t> ShardProcess::ResidentBytes() const {
  std::ifstream file(absl::StrCat("/proc/", pid_, "/status"));
  std::string line;
  while (std::getline(file, line)) {
    absl::string_view rest = line;
    if (!absl::ConsumePrefix(&rest, "VmRSS:")) continue;
    rest = absl::StripSuffix(absl::StripAsciiWhitespace(rest), "kB");
    uint64_t kilobytes = 0;
    if (absl::SimpleAtoi(absl::StripAsciiWhitespace(rest), &kilobytes)) return kilobytes * 1024;
  }
  return absl::NotFoundError(absl::StrCat("no VmRSS for process ", pid_));
}

absl::Status ShardProcess::Stop(Seconds timeout) {
  if (pid_ <= 0) return absl::FailedPreconditionError("the shard has already exited");
  control_stub_.reset();
  control_channel_.reset();
  kill(pid_, SIGTERM);
  const Clock::time_point deadline =
      Clock::now() + std::chrono::duration_cast<Clock::duration>(timeout);
  int wait_status = 0;
  pid_t reaped;
  while ((reaped = waitpid(pid_, &wait_status, WNOHANG)) == 0 && Clock::now() < deadline) {
    std::this_thread::sleep_for(kPollInterval);
  }
  if (reaped == 0) {
    kill(pid_, SIGKILL);
    waitpid(pid_, &wait_status, 0);
    pid_ = -1;
    return absl::DeadlineExceededError("the shard did not exit after SIGTERM; killed it");
  }
  pid_ = -1;
  if (reaped < 0) return absl::InternalError(absl::StrCat("waitpid failed: ", ErrnoText()));
  if (!WIFEXITED(wait_status) || WEXITSTATUS(wait_status) != 0) {
    return absl::InternalError(absl::StrCat("the shard stopped with ", DescribeExit(wait_status),
                                            "; its log ends:\n", LogTail()));
  }
  return absl::OkStatus();
}

absl::Status ShardProcess::CheckRunning() {
  if (pid_ <= 0) return absl::FailedPreconditionError("the shard is not running");
  int wait_status = 0;
  if (waitpid(pid_, &wait_status, WNOHANG) == 0) return absl::OkStatus();
  pid_ = -1;
  return absl::FailedPreconditionError(absl::StrCat(
      "the shard exited early with ", DescribeExit(wait_status), "; its log ends:\n", LogTail()));
}

std::string ShardProcess::LogTail() const {
  std::ifstream file(log_path_, std::ios::binary);
  std::stringstream contents;
  contents << file.rdbuf();
  std::string text = contents.str();
  if (text.size() > kLogTailBytes) text = text.substr(text.size() - kLogTailBytes);
  return text;
}

}  // namespace quarry::bench
