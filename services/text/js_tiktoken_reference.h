// Runs js-tiktoken under Node.js over a corpus of real text and reads back what it read and the
// ids it produced: the reference Quarry's tokenizers are checked and measured against. For
// tests and benchmarks; it needs `node`, and js-tiktoken where scripts/bootstrap installs it.
//
// A JsTiktokenRun owns one running `node` process (js_tiktoken_reference.mjs beside this file)
// and its output files in a directory of the caller's. Several runs may go at once, one per
// encoding, to use several cores. Not thread-safe.
#ifndef QUARRY_SERVICES_TEXT_JS_TIKTOKEN_REFERENCE_H_
#define QUARRY_SERVICES_TEXT_JS_TIKTOKEN_REFERENCE_H_

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace quarry::text {

// A directory of text and how many bytes of it to read (whole files, in sorted path order).
struct CorpusPart {
  std::string directory;
  size_t max_bytes = 0;
};

// The corpus the tokenizer conformance test and benchmark use: English HTML (the PostgreSQL
// manual) and Chinese man pages, simplified and traditional, about 5.5 MB in all.
std::vector<CorpusPart> EnglishAndChineseCorpus();

struct ReferenceDocument {
  std::string path;
  std::string bytes;          // the file's contents as read (decompressed when gzipped)
  std::vector<uint32_t> ids;  // js-tiktoken's ids for them
};

struct ReferenceResult {
  std::vector<ReferenceDocument> documents;
  // With timed_seconds: bytes encoded in the timed loop and the CPU time of the encode calls.
  size_t timed_bytes = 0;
  double timed_cpu_seconds = 0;
};

struct ReferenceOptions {
  std::string encoding;
  std::vector<CorpusPart> corpus;
  std::string work_dir;      // where the output files go; must exist
  double timed_seconds = 0;  // > 0: also time js-tiktoken's encoding for this much CPU time
};

class JsTiktokenRun {
 public:
  // Starts `node`; FAILED_PRECONDITION when it cannot be started.
  static absl::StatusOr<JsTiktokenRun> Start(const ReferenceOptions& options);

  JsTiktokenRun(JsTiktokenRun&& other) noexcept;
  JsTiktokenRun& operator=(JsTiktokenRun&&) = delete;
  ~JsTiktokenRun();  // waits for the process if Wait() was not called

  // Waits for the process and reads its output. INTERNAL when it failed, with its exit status.
  absl::StatusOr<ReferenceResult> Wait();

 private:
  JsTiktokenRun(pid_t pid, std::string ids_file, std::string stats_file)
      : pid_(pid), ids_file_(std::move(ids_file)), stats_file_(std::move(stats_file)) {}

  pid_t pid_;
  std::string ids_file_;
  std::string stats_file_;
};

}  // namespace quarry::text

#endif  // QUARRY_SERVICES_TEXT_JS_TIKTOKEN_REFERENCE_H_
