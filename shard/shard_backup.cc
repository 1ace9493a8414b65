#include "shard/shard_backup.h"

#include <google/protobuf/util/json_util.h>

#include <filesystem>
#include <memory>

#include "absl/strings/str_cat.h"
#include "shard/chunk_store.h"
#include "shard/faiss_index.h"
#include "shard/file_util.h"

namespace quarry::shard {
namespace {

namespace fs = std::filesystem;

// Makes `path` an empty directory; `what` names it in errors ("backup directory").
absl::StatusOr<bool> PrepareEmptyDirectory(const std::string& path, absl::string_view what) {
  if (path.empty() || !fs::path(path).is_absolute()) {
    return absl::InvalidArgumentError(absl::StrCat(what, " '", path, "' is not an absolute path"));
  }
  std::error_code error;
  const fs::file_status status = fs::status(path, error);
  if (fs::exists(status)) {
    if (!fs::is_directory(status)) {
      return absl::AlreadyExistsError(
          absl::StrCat(what, " '", path, "' exists and is not a directory"));
    }
    if (!fs::is_empty(path, error) || error) {
      return absl::AlreadyExistsError(
          absl::StrCat(what, " '", path, "' is not empty; give a new or empty directory"));
    }
    return false;
  }
  fs::create_directories(path, error);
  if (error) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot create ", what, " '", path, "': ", error.message()));
  }
  return true;
}

// Copies the directory `from` to `to` (which must not exist) and syncs the copy.
absl::Status CopyTree(const fs::path& from, const fs::path& to) {
  std::error_code error;
  fs::copy(from, to, fs::copy_options::recursive, error);
  if (error) {
    return absl::InternalError(absl::StrCat("cannot copy '", from.string(), "' to '", to.string(),
                                            "': ", error.message()));
  }
  for (const fs::directory_entry& entry : fs::recursive_directory_iterator(to, error)) {
    if (!entry.is_regular_file()) continue;
    absl::Status synced = SyncPath(entry.path().string());
    if (!synced.ok()) return synced;
  }
  if (error) return absl::InternalError(absl::StrCat("cannot list '", to.string(), "'"));
  return SyncPath(to.string());
}

}  // namespace

absl::StatusOr<bool> PrepareBackupDirectory(const std::string& path) {
  return PrepareEmptyDirectory(path, "backup directory");
}

void DiscardBackupDirectory(const std::string& path, bool created) {
  std::error_code ignored;
  if (created) {
    fs::remove_all(path, ignored);
    return;
  }
  for (const fs::directory_entry& entry : fs::directory_iterator(path, ignored)) {
    fs::remove_all(entry.path(), ignored);
  }
}

absl::Status WriteJsonManifest(const std::string& path, const google::protobuf::Message& manifest) {
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = true;
  options.always_print_primitive_fields = true;
  options.preserve_proto_field_names = true;
  std::string json;
  if (!google::protobuf::util::MessageToJsonString(manifest, &json, options).ok()) {
    return absl::InternalError(absl::StrCat("cannot encode the manifest '", path, "'"));
  }
  const std::string staging = path + ".tmp";
  absl::Status status = WriteFileDurably(staging, json);
  if (!status.ok()) return status;
  std::error_code error;
  fs::rename(staging, path, error);
  if (error) {
    return absl::InternalError(
        absl::StrCat("cannot move the manifest into '", path, "': ", error.message()));
  }
  return SyncPath(fs::path(path).parent_path().string());
}

absl::Status ReadJsonManifest(const std::string& path, google::protobuf::Message* manifest) {
  absl::StatusOr<std::string> json = ReadFile(path);
  if (!json.ok()) return json.status();
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = true;  // manifests of later releases add fields
  if (!google::protobuf::util::JsonStringToMessage(*json, manifest, options).ok()) {
    return absl::DataLossError(absl::StrCat("manifest '", path, "' is damaged"));
  }
  return absl::OkStatus();
}

absl::StatusOr<v1::ShardBackupManifest> ReadShardBackup(const std::string& directory) {
  const std::string path = absl::StrCat(directory, "/", kShardBackupManifest);
  v1::ShardBackupManifest manifest;
  absl::Status status = ReadJsonManifest(path, &manifest);
  if (absl::IsNotFound(status)) {
    return absl::FailedPreconditionError(absl::StrCat(
        "'", directory, "' is not a complete shard backup: it has no ", kShardBackupManifest));
  }
  if (!status.ok()) return status;
  if (manifest.format() != kBackupFormat) {
    return absl::FailedPreconditionError(absl::StrCat("shard backup '", directory, "' has format ",
                                                      manifest.format(), "; this release reads ",
                                                      kBackupFormat));
  }
  if (manifest.dimension() == 0 || manifest.index_spec().empty() ||
      !ParseMetric(manifest.metric()).ok()) {
    return absl::FailedPreconditionError(
        absl::StrCat("shard backup manifest '", path, "' lacks the dimension, metric or index"));
  }
  for (const char* part : {"db/CURRENT", "index/MANIFEST"}) {
    if (!fs::exists(fs::path(directory) / part)) {
      return absl::FailedPreconditionError(
          absl::StrCat("shard backup '", directory, "' is missing ", part));
    }
  }
  return manifest;
}

absl::StatusOr<v1::ShardBackupManifest> RestoreShardBackup(const std::string& backup,
                                                           const std::string& data_dir) {
  absl::StatusOr<v1::ShardBackupManifest> manifest = ReadShardBackup(backup);
  if (!manifest.ok()) return manifest.status();
  absl::StatusOr<bool> created = PrepareEmptyDirectory(data_dir, "data directory");
  if (!created.ok()) return created.status();

  absl::Status status = CopyTree(fs::path(backup) / "db", fs::path(data_dir) / "db");
  if (status.ok()) status = CopyTree(fs::path(backup) / "index", fs::path(data_dir) / "index");
  if (status.ok()) {
    // The copy must be the shard the manifest describes, holding what it says.
    ShardMeta meta;
    meta.set_shard_id(manifest->shard());
    meta.set_dimension(manifest->dimension());
    meta.set_metric(manifest->metric());
    meta.set_index_spec(manifest->index_spec());
    absl::StatusOr<std::unique_ptr<ChunkStore>> store =
        ChunkStore::Open(data_dir + "/db", meta, /*stored_spec=*/nullptr);
    if (!store.ok()) {
      status = store.status();
    } else if ((*store)->last_sequence() != manifest->sequence() ||
               (*store)->counts().documents != manifest->documents() ||
               (*store)->counts().chunks != manifest->chunks()) {
      status = absl::DataLossError(absl::StrCat(
          "the database of shard backup '", backup, "' holds sequence ", (*store)->last_sequence(),
          " with ", (*store)->counts().documents, " documents and ", (*store)->counts().chunks,
          " chunks; its manifest says sequence ", manifest->sequence(), " with ",
          manifest->documents(), " and ", manifest->chunks()));
    }
  }
  if (!status.ok()) {
    DiscardBackupDirectory(data_dir, *created);
    return status;
  }
  return manifest;
}

}  // namespace quarry::shard
