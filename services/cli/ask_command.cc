#include "services/cli/ask_command.h"

#include <grpcpp/grpcpp.h>

#include <cstdio>
#include <iostream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "quarry/v1/answer.grpc.pb.h"
#include "services/cli/security_flags.h"

namespace quarry::cli {
namespace {

using Json = nlohmann::json;

struct AskFlags {
  std::string question;
  std::string answer = "127.0.0.1:7301";
  uint32_t budget = 0;
  std::string model;
  std::string encoding;
  std::string mode;
  bool prompt_only = false;
  bool json = false;
  uint32_t k = 0;
  std::string tenant = "default";
  std::vector<std::string> groups;
  std::vector<std::string> doc_ids;
  bool mmr = false;
  std::optional<float> min_score;
  double timeout_s = 120;
  runtime::TlsFiles tls;
};

const std::map<std::string, v1::AnswerMode>& Modes() {
  static const auto* modes =
      new std::map<std::string, v1::AnswerMode>{{"prompt", v1::ANSWER_MODE_PROMPT},
                                                {"llm", v1::ANSWER_MODE_LLM},
                                                {"extractive", v1::ANSWER_MODE_EXTRACTIVE}};
  return *modes;
}

const char* DropReasonName(v1::DropReason reason) {
  switch (reason) {
    case v1::DROP_REASON_DUPLICATE:
      return "duplicate";
    case v1::DROP_REASON_OVER_BUDGET:
      return "over_budget";
    case v1::DROP_REASON_BELOW_SCORE_THRESHOLD:
      return "below_score_threshold";
    default:
      return "unspecified";
  }
}

const char* ModeName(v1::AnswerMode mode) {
  for (const auto& [name, value] : Modes()) {
    if (value == mode) return name.c_str();
  }
  return "unspecified";
}

v1::AskRequest MakeRequest(const AskFlags& flags) {
  v1::AskRequest request;
  request.set_question(flags.question);
  request.mutable_principal()->set_tenant(flags.tenant);
  for (const std::string& group : flags.groups) request.mutable_principal()->add_groups(group);
  for (const std::string& id : flags.doc_ids) request.mutable_filter()->add_doc_ids(id);
  request.set_k(flags.k);
  request.set_model(flags.model);
  request.set_encoding(flags.encoding);
  request.set_token_budget(flags.budget);
  if (flags.prompt_only) {
    request.set_mode(v1::ANSWER_MODE_PROMPT);
  } else if (!flags.mode.empty()) {
    request.set_mode(Modes().at(flags.mode));
  }
  request.mutable_packing()->set_mmr(flags.mmr);
  if (flags.min_score.has_value()) request.set_min_score(*flags.min_score);
  return request;
}

void PrintPrompt(const v1::AskPrompt& prompt) {
  for (const v1::ChatMessage& message : prompt.messages()) {
    std::printf("── %s ──\n%s\n\n", message.role().c_str(), message.content().c_str());
  }
}

void PrintSources(const v1::AskPrompt& prompt) {
  if (prompt.sources().empty()) {
    std::printf("no passages found\n");
  } else {
    std::printf("Sources:\n");
  }
  for (const v1::AnswerSource& source : prompt.sources()) {
    std::printf("  [%u] %s", source.citation(),
                source.title().empty() ? source.doc_id().c_str() : source.title().c_str());
    if (!source.source().empty()) std::printf(" — %s", source.source().c_str());
    std::printf("  (score %.4f%s)\n", source.score(), source.truncated() ? ", cut" : "");
  }
  const v1::PackingReport& packing = prompt.packing();
  std::map<std::string, int> dropped;
  for (const v1::DroppedPassage& passage : packing.dropped())
    ++dropped[DropReasonName(passage.reason())];
  std::printf("prompt: %u of %u tokens (%s, %s), %u of %u passages used", packing.prompt_tokens(),
              packing.budget(), packing.encoding().c_str(), prompt.model().c_str(),
              packing.passages_used(), packing.candidates());
  for (const auto& [reason, count] : dropped) std::printf(", %d %s", count, reason.c_str());
  std::printf("\n");
  if (prompt.partial()) {
    std::printf("PARTIAL: %u of %u shards answered\n", prompt.coverage().shards_ok(),
                prompt.coverage().shards_total());
  }
}

Json ToJson(const v1::AskPrompt& prompt, const std::string& answer, const v1::AskDone& done) {
  Json messages = Json::array();
  for (const v1::ChatMessage& message : prompt.messages()) {
    messages.push_back({{"role", message.role()}, {"content", message.content()}});
  }
  Json sources = Json::array();
  for (const v1::AnswerSource& source : prompt.sources()) {
    sources.push_back({{"citation", source.citation()},
                       {"doc_id", source.doc_id()},
                       {"chunk_id", source.chunk_id()},
                       {"title", source.title()},
                       {"source", source.source()},
                       {"score", source.score()},
                       {"tokens", source.tokens()},
                       {"truncated", source.truncated()}});
  }
  Json dropped = Json::array();
  for (const v1::DroppedPassage& passage : prompt.packing().dropped()) {
    Json item = {{"doc_id", passage.doc_id()},
                 {"chunk_id", passage.chunk_id()},
                 {"score", passage.score()},
                 {"reason", DropReasonName(passage.reason())}};
    if (passage.duplicate_of() != 0) item["duplicate_of"] = passage.duplicate_of();
    dropped.push_back(item);
  }
  return {{"answer", answer},
          {"prompt", messages},
          {"prompt_tokens", prompt.packing().prompt_tokens()},
          {"budget", prompt.packing().budget()},
          {"encoding", prompt.packing().encoding()},
          {"model", prompt.model()},
          {"mode", ModeName(prompt.mode())},
          {"sources", sources},
          {"dropped", dropped},
          {"finish_reason", done.finish_reason()},
          {"partial", prompt.partial()}};
}

int RunAsk(const AskFlags& flags) {
  absl::StatusOr<std::shared_ptr<grpc::Channel>> channel = ClientChannel(flags.answer, flags.tls);
  if (!channel.ok()) {
    std::fprintf(stderr, "quarry ask: %s\n", std::string(channel.status().message()).c_str());
    return 2;
  }
  auto stub = v1::Answer::NewStub(*channel);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() +
                       std::chrono::milliseconds(static_cast<int64_t>(flags.timeout_s * 1000)));
  AttachApiKeyFromEnvironment(context);
  std::unique_ptr<grpc::ClientReader<v1::AskResponse>> reader =
      stub->Ask(&context, MakeRequest(flags));

  v1::AskPrompt prompt;
  v1::AskDone done;
  std::string answer;
  v1::AskResponse response;
  while (reader->Read(&response)) {
    switch (response.part_case()) {
      case v1::AskResponse::kPrompt:
        prompt = response.prompt();
        if (flags.prompt_only && !flags.json) PrintPrompt(prompt);
        break;
      case v1::AskResponse::kDelta:
        answer += response.delta().text();
        if (!flags.json) {
          std::fwrite(response.delta().text().data(), 1, response.delta().text().size(), stdout);
          std::fflush(stdout);
        }
        break;
      case v1::AskResponse::kDone:
        done = response.done();
        break;
      default:
        break;
    }
  }
  const grpc::Status status = reader->Finish();
  if (!status.ok()) {
    if (!answer.empty() && !flags.json) std::printf("\n");
    std::fprintf(stderr, "quarry ask: %s (answer service %s)\n", status.error_message().c_str(),
                 flags.answer.c_str());
    return 1;
  }

  if (flags.json) {
    std::cout << ToJson(prompt, answer, done).dump(-1, ' ', false, Json::error_handler_t::replace)
              << "\n";
    return 0;
  }
  if (!answer.empty()) {
    std::printf("\n\n");
  } else if (done.finish_reason() == "no_match") {
    std::printf("(no sentence of the sources matches the question)\n\n");
  }
  PrintSources(prompt);
  return 0;
}

}  // namespace

void AddAskCommand(CLI::App& app, std::function<int()>* run) {
  auto flags = std::make_shared<AskFlags>();
  CLI::App* command = app.add_subcommand(
      "ask", "Ask a question: the answer streams in, then its sources are listed");
  command->add_option("question", flags->question, "The question")->required();
  command->add_option("--answer", flags->answer, "Answer service address (host:port)")
      ->capture_default_str();
  command->add_option("--budget", flags->budget,
                      "Most prompt tokens (0: the model's context window less the answer's "
                      "reserve)");
  command->add_option("--model", flags->model, "Target model (default: the service's)");
  command->add_option("--encoding", flags->encoding,
                      "Tokenizer for a model the service does not know: cl100k_base or "
                      "o200k_base");
  command->add_option("--mode", flags->mode, "prompt, llm or extractive (default: the service's)")
      ->check(CLI::IsMember({"prompt", "llm", "extractive"}));
  command->add_flag("--prompt-only", flags->prompt_only, "Print the prompt; ask no model");
  command->add_flag("--json", flags->json,
                    "Print {answer, prompt, prompt_tokens, budget, sources:[...], ...}");
  command->add_option("-k", flags->k, "Passages to consider (default: the service's)")
      ->check(CLI::Range(1, 1000));
  command->add_option("--tenant", flags->tenant, "Tenant to search as")->capture_default_str();
  command->add_option("--group", flags->groups, "An ACL group of the caller (repeatable)");
  command->add_option("--doc", flags->doc_ids, "Only these documents (repeatable)");
  command->add_flag("--mmr", flags->mmr, "Reorder passages for diversity (MMR)");
  command->add_option("--min-score", flags->min_score, "Drop passages scoring below this");
  command->add_option("--timeout", flags->timeout_s, "Seconds to wait")->capture_default_str();
  AddTlsOptions(command, &flags->tls, TlsUse::kClient);
  command->callback([flags, run] { *run = [flags] { return RunAsk(*flags); }; });
}

}  // namespace quarry::cli
