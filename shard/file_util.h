// Small durable-file helpers for the shard's snapshot directories.
#ifndef QUARRY_SHARD_FILE_UTIL_H_
#define QUARRY_SHARD_FILE_UTIL_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace quarry::shard {

// Writes `contents` to `path` and syncs it to disk.
[[nodiscard]] absl::Status WriteFileDurably(const std::string& path, absl::string_view contents);

// Reads the whole file.
absl::StatusOr<std::string> ReadFile(const std::string& path);

// Syncs a file or directory that already exists.
[[nodiscard]] absl::Status SyncPath(const std::string& path);

// The XXH3 64-bit hash and size of a file's contents, read in pieces.
struct FileDigest {
  uint64_t size = 0;
  uint64_t hash = 0;
};
absl::StatusOr<FileDigest> DigestFile(const std::string& path);

}  // namespace quarry::shard

#endif  // QUARRY_SHARD_FILE_UTIL_H_
