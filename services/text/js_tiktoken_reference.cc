#include "services/text/js_tiktoken_reference.h"

#include <spawn.h>
#include <sys/wait.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"

extern char** environ;

namespace quarry::text {
namespace {

// Reads the records js_tiktoken_reference.mjs writes; see that script for the layout.
class RecordReader {
 public:
  explicit RecordReader(std::string contents) : contents_(std::move(contents)) {}

  bool done() const { return offset_ == contents_.size(); }

  bool ReadUint32(uint32_t* value) {
    if (contents_.size() - offset_ < 4) return false;
    const auto* bytes = reinterpret_cast<const unsigned char*>(contents_.data() + offset_);
    *value = bytes[0] | bytes[1] << 8 | bytes[2] << 16 | static_cast<uint32_t>(bytes[3]) << 24;
    offset_ += 4;
    return true;
  }

  bool ReadBytes(std::string* bytes) {
    uint32_t size;
    if (!ReadUint32(&size) || contents_.size() - offset_ < size) return false;
    bytes->assign(contents_, offset_, size);
    offset_ += size;
    return true;
  }

  bool ReadIds(std::vector<uint32_t>* ids) {
    uint32_t count;
    if (!ReadUint32(&count) || (contents_.size() - offset_) / 4 < count) return false;
    ids->resize(count);
    for (uint32_t& id : *ids) ReadUint32(&id);
    return true;
  }

 private:
  const std::string contents_;
  size_t offset_ = 0;
};

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) return absl::InternalError(absl::StrCat("cannot open ", path));
  std::ostringstream contents;
  contents << file.rdbuf();
  return contents.str();
}

}  // namespace

std::vector<CorpusPart> EnglishAndChineseCorpus() {
  return {{"/usr/share/doc/postgresql-doc-15/html", 3'500'000},
          {"/usr/share/man/zh_CN", 1'200'000},
          {"/usr/share/man/zh_TW", 800'000}};
}

absl::StatusOr<JsTiktokenRun> JsTiktokenRun::Start(const ReferenceOptions& options) {
  const std::string prefix = absl::StrCat(options.work_dir, "/js_tiktoken_", options.encoding);
  const std::string ids_file = prefix + ".ids";
  const std::string stats_file = prefix + ".json";
  std::vector<std::string> arguments = {"node",
                                        QUARRY_SOURCE_DIR
                                        "/services/text/js_tiktoken_reference.mjs",
                                        "--encoding",
                                        options.encoding,
                                        "--out",
                                        ids_file,
                                        "--stats",
                                        stats_file,
                                        "--timed-seconds",
                                        absl::StrCat(options.timed_seconds)};
  for (const CorpusPart& part : options.corpus) {
    arguments.push_back("--corpus");
    arguments.push_back(absl::StrCat(part.directory, "=", part.max_bytes));
  }

  std::remove(stats_file.c_str());  // left by an earlier run, it would pass for this one's

  std::vector<char*> argv;
  for (std::string& argument : arguments) argv.push_back(argument.data());
  argv.push_back(nullptr);
  pid_t pid;
  const int error = posix_spawnp(&pid, "node", nullptr, nullptr, argv.data(), environ);
  if (error != 0) {
    return absl::FailedPreconditionError(absl::StrCat("cannot start node: ", std::strerror(error)));
  }
  return JsTiktokenRun(pid, ids_file, stats_file);
}

JsTiktokenRun::JsTiktokenRun(JsTiktokenRun&& other) noexcept
    : pid_(std::exchange(other.pid_, 0)),
      ids_file_(std::move(other.ids_file_)),
      stats_file_(std::move(other.stats_file_)) {}

JsTiktokenRun::~JsTiktokenRun() {
  if (pid_ > 0) waitpid(pid_, nullptr, 0);
}

absl::StatusOr<ReferenceResult> JsTiktokenRun::Wait() {
  int wait_status = 0;
  const pid_t waited = waitpid(std::exchange(pid_, 0), &wait_status, 0);
  if (waited < 0 || !WIFEXITED(wait_status) || WEXITSTATUS(wait_status) != 0) {
    return absl::InternalError(
        absl::StrCat("js_tiktoken_reference.mjs failed (wait status ", wait_status, ")"));
  }

  absl::StatusOr<std::string> contents = ReadFile(ids_file_);
  if (!contents.ok()) return contents.status();
  ReferenceResult result;
  RecordReader reader(*std::move(contents));
  while (!reader.done()) {
    ReferenceDocument& document = result.documents.emplace_back();
    if (!reader.ReadBytes(&document.path) || !reader.ReadBytes(&document.bytes) ||
        !reader.ReadIds(&document.ids)) {
      return absl::InternalError(absl::StrCat(ids_file_, " is truncated"));
    }
  }

  absl::StatusOr<std::string> stats = ReadFile(stats_file_);
  if (stats.ok()) {
    nlohmann::json parsed = nlohmann::json::parse(*stats, nullptr, /*allow_exceptions=*/false);
    if (parsed.is_object()) {
      result.timed_bytes = parsed.value("bytes", size_t{0});
      result.timed_cpu_seconds = parsed.value("cpu_seconds", 0.0);
    }
  }
  return result;
}

}  // namespace quarry::text
