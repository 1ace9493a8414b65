// VectorIndex::SaveSnapshot and VectorIndex::LoadSnapshot: the index persisted as a directory
// holding the FAISS index (index.faiss), the entry table (table.pb: a SnapshotHeader then one
// SnapshotEntry per live chunk, each length-delimited) and a MANIFEST with the size and XXH3
// hash of both. A snapshot is written beside its target and renamed into place, so a reader
// sees a whole snapshot or none; the MANIFEST catches damage done afterwards.
#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <google/protobuf/util/delimited_message_util.h>

#include <filesystem>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "services/runtime/log.h"
#include "shard/file_util.h"
#include "shard/storage.pb.h"
#include "shard/vector_index.h"

namespace quarry::shard {
namespace {

constexpr uint32_t kSnapshotFormat = 1;
constexpr char kIndexFile[] = "index.faiss";
constexpr char kTableFile[] = "table.pb";
constexpr char kManifestFile[] = "MANIFEST";

namespace fs = std::filesystem;

absl::Status WriteManifest(const std::string& directory) {
  std::string manifest;
  for (const char* name : {kIndexFile, kTableFile}) {
    absl::StatusOr<FileDigest> digest = DigestFile(directory + "/" + name);
    if (!digest.ok()) return digest.status();
    absl::StrAppendFormat(&manifest, "%s %d %016x\n", name, digest->size, digest->hash);
  }
  return WriteFileDurably(directory + "/" + kManifestFile, manifest);
}

absl::Status VerifyManifest(const std::string& directory) {
  absl::StatusOr<std::string> manifest = ReadFile(directory + "/" + kManifestFile);
  if (!manifest.ok()) return absl::DataLossError(manifest.status().message());
  std::istringstream lines(*manifest);
  std::string name;
  uint64_t size;
  std::string hash;
  int files = 0;
  while (lines >> name >> size >> hash) {
    absl::StatusOr<FileDigest> digest = DigestFile(directory + "/" + name);
    if (!digest.ok()) return absl::DataLossError(digest.status().message());
    if (digest->size != size || absl::StrFormat("%016x", digest->hash) != hash) {
      return absl::DataLossError(
          absl::StrCat("snapshot file '", directory, "/", name, "' does not match its checksum"));
    }
    ++files;
  }
  if (files != 2) return absl::DataLossError(absl::StrCat("snapshot '", directory, "' is torn"));
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<uint64_t> VectorIndex::SaveSnapshot(const std::string& directory) {
  std::lock_guard maintenance(maintenance_mu_);
  auto start = std::chrono::steady_clock::now();

  // The table is copied under the shared lock; main_ changes only under maintenance_mu_,
  // which this holds, so it is written afterwards without blocking writers.
  std::string table;
  const FaissIndex* main = nullptr;
  SnapshotHeader header;
  {
    std::shared_lock lock(mu_);
    main = main_.get();
    header.set_format(kSnapshotFormat);
    header.set_sequence(applied_sequence_);
    header.set_dimension(options_.dimension);
    header.set_metric(std::string(MetricName(options_.metric)));
    header.set_index_spec(options_.spec);
    header.set_main_trained(main_is_spec_);
    header.set_entries(entries_.size());
    header.set_next_slot(slot_entries_.size());
    for (int64_t slot : dead_slots_) header.add_dead_slots(slot);

    // One coded stream for the whole table: each record is its varint length, then its bytes.
    google::protobuf::io::StringOutputStream stream(&table);
    google::protobuf::io::CodedOutputStream out(&stream);
    auto write = [&out](const google::protobuf::MessageLite& message) {
      out.WriteVarint32(static_cast<uint32_t>(message.ByteSizeLong()));
      message.SerializeWithCachedSizes(&out);
    };
    write(header);
    SnapshotEntry record;
    const size_t d = options_.dimension;
    for (const auto& [id, entry] : entries_) {
      record.Clear();
      record.set_chunk_id(id);
      record.set_slot(entry.slot);
      if (entry.slot < 0) {
        const float* vector = buffer_vectors_.data() + entry.buffer_pos * d;
        record.mutable_buffered_vector()->Add(vector, vector + d);
      }
      record.set_tenant(pool_.Get(entry.attrs.tenant));
      record.set_doc_id(pool_.Get(entry.attrs.doc));
      record.set_ordinal(entry.attrs.ordinal);
      for (uint32_t group : entry.attrs.groups) record.add_acl_groups(pool_.Get(group));
      auto& metadata = *record.mutable_metadata();
      for (const MetadataAttr& attr : entry.attrs.metadata) {
        v1::MetadataValue& value = metadata[pool_.Get(attr.key)];
        if (attr.is_number) {
          value.set_number(attr.number);
        } else {
          value.set_text(pool_.Get(attr.text));
        }
      }
      write(record);
    }
  }

  const std::string staging = directory + ".tmp";
  const std::string previous = directory + ".old";
  std::error_code error;
  fs::remove_all(staging, error);
  fs::create_directories(staging, error);
  if (error) {
    return absl::InternalError(absl::StrCat("cannot create '", staging, "': ", error.message()));
  }
  absl::Status status = main->Write(staging + "/" + kIndexFile);
  if (status.ok()) status = SyncPath(staging + "/" + kIndexFile);
  if (status.ok()) status = WriteFileDurably(staging + "/" + kTableFile, table);
  if (status.ok()) status = WriteManifest(staging);
  if (status.ok()) status = SyncPath(staging);
  if (!status.ok()) return status;

  // Swap directories: the old snapshot stays readable as ".old" until the new one is in place.
  fs::remove_all(previous, error);
  if (fs::exists(directory)) fs::rename(directory, previous, error);
  if (!error) fs::rename(staging, directory, error);
  if (error) {
    return absl::InternalError(
        absl::StrCat("cannot move snapshot into '", directory, "': ", error.message()));
  }
  status = SyncPath(fs::path(directory).parent_path().string());
  if (!status.ok()) return status;
  fs::remove_all(previous, error);

  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  runtime::Logger("index")->info("snapshot of {} chunks at sequence {} written in {:.2f}s",
                                 header.entries(), header.sequence(), seconds);
  if (options_.on_operation) options_.on_operation(IndexOperation::kSnapshot, seconds);
  return header.sequence();
}

absl::StatusOr<std::unique_ptr<VectorIndex>> VectorIndex::LoadSnapshot(
    const VectorIndexOptions& options, const std::string& requested) {
  // A crash between the two renames of SaveSnapshot leaves only the ".old" directory.
  std::string directory = requested;
  if (!fs::exists(directory) && fs::exists(requested + ".old")) directory = requested + ".old";
  if (!fs::exists(directory)) {
    return absl::NotFoundError(absl::StrCat("no index snapshot in '", requested, "'"));
  }
  absl::Status status = VerifyManifest(directory);
  if (!status.ok()) return status;

  absl::StatusOr<std::string> table = ReadFile(directory + "/" + kTableFile);
  if (!table.ok()) return absl::DataLossError(table.status().message());
  google::protobuf::io::ArrayInputStream stream(table->data(), table->size());
  SnapshotHeader header;
  bool clean_eof = false;
  if (!google::protobuf::util::ParseDelimitedFromZeroCopyStream(&header, &stream, &clean_eof) ||
      header.format() != kSnapshotFormat) {
    return absl::DataLossError(absl::StrCat("snapshot '", directory, "' has no valid header"));
  }
  if (header.dimension() != static_cast<uint32_t>(options.dimension) ||
      header.metric() != MetricName(options.metric) || header.index_spec() != options.spec) {
    return absl::FailedPreconditionError(
        absl::StrCat("snapshot '", directory, "' was built for dimension ", header.dimension(),
                     ", metric ", header.metric(), " and index '", header.index_spec(), "'"));
  }

  absl::StatusOr<std::unique_ptr<VectorIndex>> created = Create(options);
  if (!created.ok()) return created.status();
  std::unique_ptr<VectorIndex> index = *std::move(created);
  absl::StatusOr<std::unique_ptr<FaissIndex>> main =
      FaissIndex::Read(directory + "/" + kIndexFile, options.dimension, options.metric);
  if (!main.ok()) return main.status();

  std::unique_lock lock(index->mu_);
  const int64_t next_slot = static_cast<int64_t>(header.next_slot());
  if ((*main)->labels_are_positions() && (*main)->ntotal() != next_slot) {
    return absl::DataLossError(absl::StrCat("snapshot '", directory, "' index holds ",
                                            (*main)->ntotal(), " vectors, table ", next_slot));
  }
  (*main)->SetDefaultEfSearch(options.default_ef_search);
  index->main_ = *std::move(main);
  index->main_is_spec_ = header.main_trained();
  index->slot_entries_.assign(next_slot, nullptr);
  index->dead_slots_.assign(header.dead_slots().begin(), header.dead_slots().end());
  index->entries_.reserve(header.entries());

  SnapshotEntry record;
  v1::Chunk chunk;
  for (uint64_t i = 0; i < header.entries(); ++i) {
    record.Clear();  // delimited parsing merges into the message
    if (!google::protobuf::util::ParseDelimitedFromZeroCopyStream(&record, &stream, &clean_eof)) {
      return absl::DataLossError(absl::StrCat("snapshot '", directory, "' table is truncated"));
    }
    if (record.slot() < 0) {
      chunk.Clear();
      chunk.set_id(record.chunk_id());
      chunk.set_tenant(record.tenant());
      chunk.set_doc_id(record.doc_id());
      chunk.set_ordinal(record.ordinal());
      *chunk.mutable_acl_groups() = record.acl_groups();
      *chunk.mutable_metadata() = record.metadata();
      if (record.buffered_vector_size() != options.dimension) {
        return absl::DataLossError(absl::StrCat("snapshot '", directory, "' has a vector of ",
                                                record.buffered_vector_size(), " values"));
      }
      *chunk.mutable_vector() = record.buffered_vector();
      index->AddEntryLocked(chunk);
      continue;
    }
    if (record.slot() >= next_slot || index->slot_entries_[record.slot()] != nullptr) {
      return absl::DataLossError(absl::StrCat("snapshot '", directory, "' has a bad slot"));
    }
    auto [it, inserted] = index->entries_.try_emplace(record.chunk_id());
    if (!inserted) {
      return absl::DataLossError(absl::StrCat("snapshot '", directory, "' repeats a chunk"));
    }
    Entry& entry = it->second;
    entry.chunk_id = record.chunk_id();
    entry.slot = record.slot();
    entry.attrs = MakeChunkAttrs(record.tenant(), record.doc_id(), record.ordinal(),
                                 record.acl_groups(), record.metadata(), index->pool_);
    ++index->tenant_chunks_[entry.attrs.tenant];
    if (!entry.attrs.groups.empty()) ++index->acl_chunks_;
    index->slot_entries_[entry.slot] = &entry;
    ++index->main_live_;
  }
  index->applied_sequence_ = header.sequence();
  return index;
}

}  // namespace quarry::shard
