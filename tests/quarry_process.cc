#include "tests/quarry_process.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "grpc/health/v1/health.grpc.pb.h"

namespace quarry::testing {
namespace {

std::string TempPath(absl::string_view stem) {
  static int counter = 0;
  const char* base = std::getenv("TEST_TMPDIR");
  return absl::StrCat(base ? base : "/tmp", "/quarry-", getpid(), "-", ++counter, "-", stem);
}

std::string ReadWhole(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

int FreeBasePort(int span) {
  std::mt19937 random(
      static_cast<uint32_t>(getpid()) * 7919u +
      static_cast<uint32_t>(std::chrono::steady_clock::now().time_since_epoch().count()));
  for (int attempt = 0; attempt < 200; ++attempt) {
    const int base = 20000 + static_cast<int>(random() % 20000);
    bool free = true;
    for (int offset : {0, 1000}) {
      for (int port = base + offset; free && port <= base + offset + span; ++port) {
        const int probe = socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in address{};
        address.sin_family = AF_INET;
        address.sin_port = htons(static_cast<uint16_t>(port));
        address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        free = bind(probe, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0;
        close(probe);
      }
    }
    if (free) return base;
  }
  return 0;
}

std::string QuarryBinary() {
  const char* bin = std::getenv("QUARRY_BIN");
  return bin ? bin : "quarry";
}

CommandResult RunQuarry(const std::vector<std::string>& args, std::chrono::milliseconds timeout,
                        const std::vector<std::pair<std::string, std::string>>& environment) {
  const std::string out_path = TempPath("out");
  const std::string err_path = TempPath("err");
  std::vector<std::string> argv = {QuarryBinary()};
  argv.insert(argv.end(), args.begin(), args.end());
  CommandResult result;
  const pid_t pid = fork();
  if (pid < 0) return result;
  if (pid == 0) {
    const int in = open("/dev/null", O_RDONLY);
    const int out = open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    const int err = open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (in < 0 || out < 0 || err < 0) _exit(126);
    dup2(in, STDIN_FILENO);
    dup2(out, STDOUT_FILENO);
    dup2(err, STDERR_FILENO);
    for (const auto& [name, value] : environment) setenv(name.c_str(), value.c_str(), 1);
    std::vector<char*> raw;
    for (std::string& arg : argv) raw.push_back(arg.data());
    raw.push_back(nullptr);
    execv(raw[0], raw.data());
    _exit(127);
  }
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  int status = 0;
  while (waitpid(pid, &status, WNOHANG) == 0) {
    if (std::chrono::steady_clock::now() > deadline) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      status = -1;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (status != -1 && WIFEXITED(status)) result.exit_code = WEXITSTATUS(status);
  result.out = ReadWhole(out_path);
  result.err = ReadWhole(err_path);
  unlink(out_path.c_str());
  unlink(err_path.c_str());
  return result;
}

QuarryProcess::QuarryProcess(std::string command, std::vector<std::string> args)
    : command_(std::move(command)),
      args_(std::move(args)),
      port_file_(TempPath("port")),
      log_file_(TempPath("log")) {}

QuarryProcess::QuarryProcess(std::string command, std::vector<std::string> args,
                             std::string address)
    : QuarryProcess(std::move(command), std::move(args)) {
  adds_listen_ = false;
  listen_ = std::move(address);
}

QuarryProcess::~QuarryProcess() {
  if (pid_ > 0) Kill();
  unlink(port_file_.c_str());
  unlink(log_file_.c_str());
}

absl::Status QuarryProcess::Start(std::chrono::milliseconds timeout) {
  unlink(port_file_.c_str());
  std::vector<std::string> argv = {QuarryBinary(), command_};
  if (adds_listen_) {
    for (const std::string& arg :
         {std::string("--listen"), listen_, std::string("--port-file"), port_file_}) {
      argv.push_back(arg);
    }
  }
  argv.insert(argv.end(), args_.begin(), args_.end());
  pid_ = fork();
  if (pid_ < 0) return absl::InternalError("fork failed");
  if (pid_ == 0) {
    int log = open(log_file_.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (log >= 0) dup2(log, STDERR_FILENO);
    std::vector<char*> raw;
    for (std::string& arg : argv) raw.push_back(arg.data());
    raw.push_back(nullptr);
    execv(raw[0], raw.data());
    _exit(127);
  }

  auto deadline = std::chrono::steady_clock::now() + timeout;
  int port = adds_listen_ ? 0 : std::stoi(listen_.substr(listen_.rfind(':') + 1));
  while (port == 0 && std::chrono::steady_clock::now() < deadline) {
    int status;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return absl::FailedPreconditionError(
          absl::StrCat("quarry exited with status ", status, ":\n", Log()));
    }
    std::ifstream in(port_file_);
    if (in >> port && port > 0) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  if (port == 0) return absl::DeadlineExceededError("quarry did not bind a port:\n" + Log());

  address_ = absl::StrCat("127.0.0.1:", port);
  listen_ = address_;
  channel_ = grpc::CreateChannel(address_, credentials_);
  shard_stub_ = v1::Shard::NewStub(channel_);
  router_stub_ = v1::Router::NewStub(channel_);
  auto health = grpc::health::v1::Health::NewStub(channel_);
  while (std::chrono::steady_clock::now() < deadline) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(1));
    grpc::health::v1::HealthCheckRequest request;
    grpc::health::v1::HealthCheckResponse response;
    if (health->Check(&context, request, &response).ok() &&
        response.status() == grpc::health::v1::HealthCheckResponse::SERVING) {
      return absl::OkStatus();
    }
    int status;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return absl::FailedPreconditionError(
          absl::StrCat("quarry exited with status ", status, ":\n", Log()));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return absl::DeadlineExceededError("quarry did not become SERVING:\n" + Log());
}

int QuarryProcess::WaitForExit(std::chrono::milliseconds timeout) {
  if (pid_ <= 0) return -1;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    int status;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return -1;
}

int QuarryProcess::Terminate(std::chrono::milliseconds timeout) {
  if (pid_ <= 0) return -1;
  kill(pid_, SIGTERM);
  return WaitForExit(timeout);
}

void QuarryProcess::Kill() {
  if (pid_ <= 0) return;
  kill(pid_, SIGKILL);
  int status;
  waitpid(pid_, &status, 0);
  pid_ = -1;
}

void QuarryProcess::Signal(int signal_number) {
  if (pid_ > 0) kill(pid_, signal_number);
}

void QuarryProcess::Pause() {
  if (pid_ > 0) kill(pid_, SIGSTOP);
}

void QuarryProcess::Resume() {
  if (pid_ > 0) kill(pid_, SIGCONT);
}

std::string QuarryProcess::Log() const {
  std::ifstream in(log_file_);
  std::stringstream contents;
  contents << in.rdbuf();
  return contents.str();
}

}  // namespace quarry::testing
