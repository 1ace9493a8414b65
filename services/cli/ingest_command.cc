#include "services/cli/ingest_command.h"

#include <glob.h>
#include <grpcpp/grpcpp.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/numbers.h"
#include "quarry/v1/router.grpc.pb.h"
#include "services/cli/security_flags.h"
#include "services/text/chunker.h"
#include "services/text/document_extractor.h"
#include "services/text/tokenizer.h"

namespace quarry::cli {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

// Requests stay well under the router's and shards' message limits, vectors included.
constexpr uint64_t kMaxRequestBytes = 8 << 20;

struct IngestFlags {
  std::vector<std::string> paths;
  std::string router = "127.0.0.1:7300";
  std::string tenant = "default";
  std::vector<std::string> acl_groups;
  std::vector<std::string> metadata;  // K=V
  std::string encoding = "cl100k_base";
  size_t chunk_tokens = 300;
  size_t overlap_tokens = 50;
  size_t min_section_tokens = 40;
  double max_file_mb = 16;
  size_t batch_files = 16;
  bool force = false;
  double timeout_s = 120;
  runtime::TlsFiles tls;
};

// Files named by `paths`: files as they are, folders recursively, and glob patterns. Paths
// that match nothing are returned in `missing`.
std::vector<std::string> ExpandPaths(const std::vector<std::string>& paths,
                                     std::vector<std::string>& missing) {
  std::set<std::string> files;
  auto add = [&](const fs::path& path) {
    std::error_code error;
    if (fs::is_directory(path, error)) {
      for (auto it = fs::recursive_directory_iterator(
               path, fs::directory_options::skip_permission_denied, error);
           !error && it != fs::recursive_directory_iterator(); it.increment(error)) {
        if (it->is_regular_file(error)) files.insert(fs::canonical(it->path(), error).string());
      }
    } else if (fs::exists(path, error)) {
      files.insert(fs::canonical(path, error).string());
    } else {
      return false;
    }
    return true;
  };
  for (const std::string& path : paths) {
    if (add(path)) continue;
    glob_t matches{};
    if (path.find_first_of("*?[") != std::string::npos &&
        glob(path.c_str(), 0, nullptr, &matches) == 0) {
      for (size_t i = 0; i < matches.gl_pathc; ++i) add(matches.gl_pathv[i]);
    } else {
      missing.push_back(path);
    }
    globfree(&matches);
  }
  return {files.begin(), files.end()};
}

// Shows files done, MB/s and the time left on a terminal; nothing otherwise.
class Progress {
 public:
  Progress(size_t files, uint64_t bytes)
      : files_(files), bytes_(bytes), live_(isatty(STDERR_FILENO)), start_(Clock::now()) {}

  void Advance(uint64_t bytes) {
    ++done_files_;
    done_bytes_ += bytes;
    if (!live_) return;
    const double seconds = std::chrono::duration<double>(Clock::now() - start_).count();
    const double rate = seconds > 0 ? done_bytes_ / seconds : 0;
    const double left = rate > 0 ? (bytes_ - done_bytes_) / rate : 0;
    std::fprintf(stderr, "\r%zu/%zu files  %.1f MB  %.2f MB/s  ETA %.0fs   ", done_files_, files_,
                 done_bytes_ / 1e6, rate / 1e6, left);
  }

  void Finish() {
    if (live_) std::fprintf(stderr, "\n");
  }
  double seconds() const { return std::chrono::duration<double>(Clock::now() - start_).count(); }
  uint64_t done_bytes() const { return done_bytes_; }

 private:
  const size_t files_;
  const uint64_t bytes_;
  const bool live_;
  const Clock::time_point start_;
  size_t done_files_ = 0;
  uint64_t done_bytes_ = 0;
};

class Ingester {
 public:
  Ingester(const IngestFlags& flags, const text::Tokenizer& tokenizer,
           std::shared_ptr<grpc::Channel> channel)
      : flags_(flags),
        chunker_(&tokenizer, {flags.chunk_tokens, flags.overlap_tokens, flags.min_section_tokens}),
        router_(v1::Router::NewStub(std::move(channel))) {
    for (const std::string& pair : flags.metadata) {
      const size_t equals = pair.find('=');
      v1::MetadataValue value;
      double number;
      const std::string text = pair.substr(equals + 1);
      if (absl::SimpleAtod(text, &number)) {
        value.set_number(number);
      } else {
        value.set_text(text);
      }
      metadata_[pair.substr(0, equals)] = value;
    }
  }

  int Run(const std::vector<std::string>& files, const std::vector<std::string>& missing) {
    failed_ = missing.size();
    for (const std::string& path : missing) {
      std::fprintf(stderr, "FAILED %s: no such file, folder or match\n", path.c_str());
    }
    uint64_t total_bytes = 0;
    for (const std::string& file : files) {
      std::error_code error;
      total_bytes += fs::file_size(file, error);
    }
    Progress progress(files.size(), total_bytes);
    for (const std::string& path : files) {
      Add(path, progress);
      if (pending_.documents_size() >= static_cast<int>(flags_.batch_files) ||
          pending_bytes_ >= kMaxRequestBytes) {
        Flush(progress);
      }
    }
    Flush(progress);
    progress.Finish();
    std::printf(
        "ingested %zu, unchanged %zu, failed %zu of %zu files (%.1f MB in %.1fs, "
        "%.2f MB/s)\n",
        ingested_, unchanged_, failed_, files.size() + missing.size(), progress.done_bytes() / 1e6,
        progress.seconds(), progress.done_bytes() / 1e6 / std::max(progress.seconds(), 1e-3));
    return failed_ == 0 ? 0 : 1;
  }

 private:
  void Fail(const std::string& path, const std::string& reason) {
    std::fprintf(stderr, "%sFAILED %s: %s\n", isatty(STDERR_FILENO) ? "\n" : "", path.c_str(),
                 reason.c_str());
    ++failed_;
  }

  // Extracts and chunks one file into the pending request.
  void Add(const std::string& path, Progress& progress) {
    text::ExtractOptions options;
    options.max_bytes = static_cast<size_t>(flags_.max_file_mb * 1024 * 1024);
    std::error_code error;
    const uint64_t size = fs::file_size(path, error);
    absl::StatusOr<text::ExtractedDocument> extracted = text::ExtractFile(path, options);
    if (!extracted.ok()) {
      Fail(path, std::string(extracted.status().message()));
      progress.Advance(size);
      return;
    }
    std::vector<text::TextChunk> chunks = chunker_.Chunk(extracted->blocks);
    if (chunks.empty()) {
      Fail(path, "no text to index");
      progress.Advance(size);
      return;
    }
    v1::DocumentChunks* entry = pending_.add_documents();
    v1::Document* doc = entry->mutable_document();
    doc->set_id(path);
    doc->set_tenant(flags_.tenant);
    doc->set_title(extracted->title);
    doc->set_source(path);
    doc->set_media_type(extracted->media_type);
    doc->set_content_hash(extracted->content_hash);
    for (const std::string& group : flags_.acl_groups) doc->add_acl_groups(group);
    for (const auto& [key, value] : metadata_) (*doc->mutable_metadata())[key] = value;
    for (size_t i = 0; i < chunks.size(); ++i) {
      v1::Chunk* chunk = entry->add_chunks();
      chunk->set_ordinal(i);
      chunk->set_token_count(chunks[i].token_count);
      pending_bytes_ += chunks[i].text.size();
      chunk->set_text(std::move(chunks[i].text));
      for (std::string& heading : chunks[i].heading_path) chunk->add_heading_path(heading);
    }
    pending_sizes_.push_back(size);
  }

  // Sends the pending documents to the router, leaving out those it already holds unchanged.
  void Flush(Progress& progress) {
    v1::IngestRequest request = std::move(pending_);
    std::vector<uint64_t> sizes = std::move(pending_sizes_);
    pending_ = v1::IngestRequest();
    pending_sizes_.clear();
    pending_bytes_ = 0;
    if (request.documents().empty()) return;
    if (!flags_.force) SkipUnchanged(request, sizes, progress);
    if (request.documents().empty()) return;

    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() +
                         std::chrono::milliseconds(static_cast<int64_t>(flags_.timeout_s * 1000)));
    AttachApiKeyFromEnvironment(context);
    v1::IngestResponse response;
    grpc::Status status = router_->Ingest(&context, request, &response);
    for (int i = 0; i < request.documents_size(); ++i) {
      const std::string& path = request.documents(i).document().id();
      if (!status.ok()) {
        Fail(path, status.error_message());
      } else if (i < response.documents_size() && !response.documents(i).ok()) {
        Fail(path, response.documents(i).error());
      } else {
        ++ingested_;
      }
      progress.Advance(sizes[i]);
    }
  }

  void SkipUnchanged(v1::IngestRequest& request, std::vector<uint64_t>& sizes, Progress& progress) {
    v1::DocumentVersionsRequest lookup;
    lookup.set_tenant(flags_.tenant);
    for (const v1::DocumentChunks& entry : request.documents()) {
      lookup.add_doc_ids(entry.document().id());
    }
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() +
                         std::chrono::milliseconds(static_cast<int64_t>(flags_.timeout_s * 1000)));
    AttachApiKeyFromEnvironment(context);
    v1::DocumentVersionsResponse versions;
    if (!router_->GetDocumentVersions(&context, lookup, &versions).ok()) return;
    absl::flat_hash_map<std::string, std::string> stored;
    for (const v1::DocumentVersion& version : versions.documents()) {
      stored[version.doc_id()] = version.content_hash();
    }
    v1::IngestRequest changed;
    std::vector<uint64_t> changed_sizes;
    for (int i = 0; i < request.documents_size(); ++i) {
      const v1::Document& doc = request.documents(i).document();
      auto it = stored.find(doc.id());
      if (it != stored.end() && it->second == doc.content_hash()) {
        ++unchanged_;
        progress.Advance(sizes[i]);
        continue;
      }
      *changed.add_documents() = std::move(*request.mutable_documents(i));
      changed_sizes.push_back(sizes[i]);
    }
    request = std::move(changed);
    sizes = std::move(changed_sizes);
  }

  const IngestFlags& flags_;
  const text::Chunker chunker_;
  std::unique_ptr<v1::Router::Stub> router_;
  absl::flat_hash_map<std::string, v1::MetadataValue> metadata_;
  v1::IngestRequest pending_;
  std::vector<uint64_t> pending_sizes_;
  uint64_t pending_bytes_ = 0;
  size_t ingested_ = 0;
  size_t unchanged_ = 0;
  size_t failed_ = 0;
};

int RunIngest(const IngestFlags& flags) {
  for (const std::string& pair : flags.metadata) {
    if (pair.find('=') == std::string::npos || pair.front() == '=') {
      std::fprintf(stderr, "quarry ingest: --meta '%s' is not KEY=VALUE\n", pair.c_str());
      return 2;
    }
  }
  if (flags.overlap_tokens >= flags.chunk_tokens) {
    std::fprintf(stderr,
                 "quarry ingest: --chunk-overlap (%zu) must be below --chunk-tokens (%zu)\n",
                 flags.overlap_tokens, flags.chunk_tokens);
    return 2;
  }
  if (!(flags.max_file_mb > 0) || !(flags.timeout_s > 0)) {
    std::fprintf(stderr, "quarry ingest: --max-file-mb and --timeout must be positive\n");
    return 2;
  }
  absl::StatusOr<std::unique_ptr<text::Tokenizer>> tokenizer =
      text::Tokenizer::Create(flags.encoding);
  if (!tokenizer.ok()) {
    std::fprintf(stderr, "quarry ingest: %s\n", std::string(tokenizer.status().message()).c_str());
    return 2;
  }
  std::vector<std::string> missing;
  std::vector<std::string> files = ExpandPaths(flags.paths, missing);
  absl::StatusOr<std::shared_ptr<grpc::Channel>> channel = ClientChannel(flags.router, flags.tls);
  if (!channel.ok()) {
    std::fprintf(stderr, "quarry ingest: %s\n", std::string(channel.status().message()).c_str());
    return 2;
  }
  Ingester ingester(flags, **tokenizer, *std::move(channel));
  return ingester.Run(files, missing);
}

}  // namespace

void AddIngestCommand(CLI::App& app, std::function<int()>* run) {
  auto flags = std::make_shared<IngestFlags>();
  CLI::App* command = app.add_subcommand(
      "ingest", "Extract, chunk and index files (text, Markdown, HTML, PDF) through the router");
  command->add_option("paths", flags->paths, "Files, folders (recursive) and glob patterns")
      ->required();
  command->add_option("--router", flags->router, "Router address (host:port)")
      ->capture_default_str();
  command->add_option("--tenant", flags->tenant, "Tenant the documents belong to")
      ->capture_default_str();
  command->add_option("--acl", flags->acl_groups,
                      "A group allowed to see the documents (repeatable; none: the whole "
                      "tenant)");
  command->add_option("--meta", flags->metadata,
                      "KEY=VALUE metadata on every document (repeatable; numbers stay numbers)");
  command->add_option("--encoding", flags->encoding, "Tokenizer for chunk sizes")
      ->capture_default_str();
  command->add_option("--chunk-tokens", flags->chunk_tokens, "Target chunk size in tokens")
      ->capture_default_str()
      ->check(CLI::Range(16, 8192));
  command->add_option("--chunk-overlap", flags->overlap_tokens, "Overlap between chunks, tokens")
      ->capture_default_str()
      ->check(CLI::Range(0, 4096));
  command
      ->add_option("--min-section-tokens", flags->min_section_tokens,
                   "Sections smaller than this join their neighbours in one chunk (0: never)")
      ->capture_default_str()
      ->check(CLI::Range(0, 8192));
  command->add_option("--max-file-mb", flags->max_file_mb, "Larger files are reported, not read")
      ->capture_default_str();
  command->add_option("--batch", flags->batch_files, "Files per request to the router")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000));
  command->add_flag(
      "--force", flags->force,
      "Re-index files whose content has not changed (after changing chunk sizes, say)");
  command->add_option("--timeout", flags->timeout_s, "Seconds each request may take")
      ->capture_default_str();
  AddTlsOptions(command, &flags->tls, TlsUse::kClient);
  command->callback([flags, run] { *run = [flags] { return RunIngest(*flags); }; });
}

}  // namespace quarry::cli
