#include "services/cli/search_command.h"

#include <grpcpp/grpcpp.h>

#include <cstdio>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "quarry/v1/router.grpc.pb.h"
#include "services/cli/security_flags.h"

namespace quarry::cli {
namespace {

struct SearchFlags {
  std::string text;
  std::string router = "127.0.0.1:7300";
  int k = 10;
  std::string tenant = "default";
  std::vector<std::string> groups;
  std::vector<std::string> doc_ids;
  bool json = false;
  double timeout_s = 10;
  int snippet_chars = 240;
  runtime::TlsFiles tls;
};

// The first `limit` characters of `text` on one line; whole UTF-8 characters only.
std::string Snippet(const std::string& text, int limit) {
  std::string out;
  int characters = 0;
  bool space = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const unsigned char c = text[i];
    const bool continuation = (c & 0xC0) == 0x80;
    if (characters >= limit && !continuation) break;
    if (c == ' ' || c == '\n' || c == '\t' || c == '\r') {
      space = !out.empty();
      continue;
    }
    if (space) {
      out += ' ';
      ++characters;
      space = false;
    }
    out += static_cast<char>(c);
    if (!continuation) ++characters;
  }
  return characters >= limit ? out + "…" : out;
}

int RunSearch(const SearchFlags& flags) {
  absl::StatusOr<std::shared_ptr<grpc::Channel>> channel = ClientChannel(flags.router, flags.tls);
  if (!channel.ok()) {
    std::fprintf(stderr, "quarry search: %s\n", std::string(channel.status().message()).c_str());
    return 2;
  }
  auto router = v1::Router::NewStub(*channel);
  v1::RouterSearchRequest request;
  request.set_text(flags.text);
  request.set_k(flags.k);
  request.set_include_text(true);
  request.mutable_principal()->set_tenant(flags.tenant);
  for (const std::string& group : flags.groups) request.mutable_principal()->add_groups(group);
  for (const std::string& id : flags.doc_ids) request.mutable_filter()->add_doc_ids(id);

  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() +
                       std::chrono::milliseconds(static_cast<int64_t>(flags.timeout_s * 1000)));
  AttachApiKeyFromEnvironment(context);
  v1::RouterSearchResponse response;
  grpc::Status status = router->Search(&context, request, &response);
  if (!status.ok()) {
    std::fprintf(stderr, "quarry search: %s (router %s)\n", status.error_message().c_str(),
                 flags.router.c_str());
    return 1;
  }

  if (flags.json) {
    nlohmann::json hits = nlohmann::json::array();
    for (const v1::Hit& hit : response.hits()) {
      hits.push_back({{"doc_id", hit.doc_id()},
                      {"chunk_id", hit.chunk_id()},
                      {"score", hit.score()},
                      {"shard", hit.shard()},
                      {"title", hit.title()},
                      {"source", hit.source()},
                      {"text", hit.text()}});
    }
    nlohmann::json out = {{"hits", hits},
                          {"coverage",
                           {{"shards_total", response.coverage().shards_total()},
                            {"shards_ok", response.coverage().shards_ok()}}},
                          {"partial", response.partial()}};
    std::cout << out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
    return 0;
  }

  int rank = 0;
  for (const v1::Hit& hit : response.hits()) {
    std::printf("%2d. %.4f  %s", ++rank, hit.score(),
                hit.title().empty() ? hit.doc_id().c_str() : hit.title().c_str());
    if (!hit.source().empty()) std::printf(" — %s", hit.source().c_str());
    std::printf("\n    %s\n", Snippet(hit.text(), flags.snippet_chars).c_str());
  }
  if (response.hits().empty()) std::printf("no passages found\n");
  std::printf("%s%u of %u shards answered\n", response.partial() ? "PARTIAL: " : "",
              response.coverage().shards_ok(), response.coverage().shards_total());
  return 0;
}

}  // namespace

void AddSearchCommand(CLI::App& app, std::function<int()>* run) {
  auto flags = std::make_shared<SearchFlags>();
  CLI::App* command =
      app.add_subcommand("search", "Find the passages nearest to a question, through the router");
  command->add_option("text", flags->text, "The question or search text")->required();
  command->add_option("-k", flags->k, "How many passages")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000));
  command->add_option("--router", flags->router, "Router address (host:port)")
      ->capture_default_str();
  command->add_option("--tenant", flags->tenant, "Tenant to search as")->capture_default_str();
  command->add_option("--group", flags->groups, "An ACL group of the caller (repeatable)");
  command->add_option("--doc", flags->doc_ids, "Only these documents (repeatable)");
  command->add_flag("--json", flags->json,
                    "Print {hits:[{doc_id,chunk_id,score,shard,title,source,text}], coverage, "
                    "partial}");
  command->add_option("--timeout", flags->timeout_s, "Seconds to wait")->capture_default_str();
  AddTlsOptions(command, &flags->tls, TlsUse::kClient);
  command->callback([flags, run] { *run = [flags] { return RunSearch(*flags); }; });
}

}  // namespace quarry::cli
