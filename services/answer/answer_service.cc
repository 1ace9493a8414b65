#include "services/answer/answer_service.h"

#include <algorithm>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "services/runtime/log.h"
#include "services/runtime/status.h"

namespace quarry::answer {
namespace {

constexpr double kDefaultMmrLambda = 0.7;
constexpr uint32_t kDefaultMinCutTokens = 64;

v1::DropReason ToProto(DropReason reason) {
  switch (reason) {
    case DropReason::kDuplicate:
      return v1::DROP_REASON_DUPLICATE;
    case DropReason::kOverBudget:
      return v1::DROP_REASON_OVER_BUDGET;
    case DropReason::kBelowScoreThreshold:
      return v1::DROP_REASON_BELOW_SCORE_THRESHOLD;
  }
  return v1::DROP_REASON_UNSPECIFIED;
}

absl::string_view ModeName(v1::AnswerMode mode) {
  switch (mode) {
    case v1::ANSWER_MODE_PROMPT:
      return "prompt";
    case v1::ANSWER_MODE_LLM:
      return "llm";
    case v1::ANSWER_MODE_EXTRACTIVE:
      return "extractive";
    default:
      return "unspecified";
  }
}

std::vector<Passage> PassagesOf(const v1::RouterSearchResponse& found) {
  std::vector<Passage> passages;
  passages.reserve(found.hits_size());
  for (const v1::Hit& hit : found.hits()) {
    passages.push_back(
        {hit.doc_id(), hit.chunk_id(), hit.title(), hit.source(), hit.text(), hit.score()});
  }
  return passages;
}

v1::AskResponse PromptMessage(const std::string& model, v1::AnswerMode mode,
                              const text::Tokenizer& tokenizer,
                              const v1::RouterSearchResponse& found,
                              const std::vector<Passage>& passages, const PackedPrompt& packed) {
  v1::AskResponse response;
  v1::AskPrompt& prompt = *response.mutable_prompt();
  for (const ChatMessage& message : packed.messages) {
    v1::ChatMessage& out = *prompt.add_messages();
    out.set_role(message.role);
    out.set_content(message.content);
  }
  for (const PackedSource& source : packed.sources) {
    const Passage& passage = passages[source.passage];
    v1::AnswerSource& out = *prompt.add_sources();
    out.set_citation(source.citation);
    out.set_doc_id(passage.doc_id);
    out.set_chunk_id(passage.chunk_id);
    out.set_title(passage.title);
    out.set_source(passage.source);
    out.set_score(passage.score);
    out.set_tokens(static_cast<uint32_t>(source.tokens));
    out.set_truncated(source.truncated);
    out.set_text(source.text);
  }
  v1::PackingReport& report = *prompt.mutable_packing();
  report.set_prompt_tokens(static_cast<uint32_t>(packed.prompt_tokens));
  report.set_budget(static_cast<uint32_t>(packed.budget));
  report.set_passages_used(static_cast<uint32_t>(packed.sources.size()));
  report.set_candidates(static_cast<uint32_t>(passages.size()));
  report.set_encoding(std::string(tokenizer.encoding_name()));
  for (const DroppedPassage& dropped : packed.dropped) {
    const Passage& passage = passages[dropped.passage];
    v1::DroppedPassage& out = *report.add_dropped();
    out.set_doc_id(passage.doc_id);
    out.set_chunk_id(passage.chunk_id);
    out.set_score(passage.score);
    out.set_reason(ToProto(dropped.reason));
    out.set_duplicate_of(dropped.duplicate_of);
  }
  prompt.set_model(model);
  prompt.set_mode(mode);
  *prompt.mutable_coverage() = found.coverage();
  prompt.set_partial(found.partial());
  return response;
}

v1::AskResponse DeltaMessage(absl::string_view text) {
  v1::AskResponse response;
  response.mutable_delta()->set_text(std::string(text));
  return response;
}

v1::AskResponse DoneMessage(absl::string_view finish_reason, size_t answer_tokens) {
  v1::AskResponse response;
  response.mutable_done()->set_finish_reason(std::string(finish_reason));
  response.mutable_done()->set_answer_tokens(static_cast<uint32_t>(answer_tokens));
  return response;
}

double SecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

absl::Status CallerGone() { return absl::CancelledError("the caller went away"); }

}  // namespace

AnswerService::AnswerService(v1::Router::StubInterface* router, ModelRegistry* models,
                             const PromptTemplate* prompt_template, ChatCompletionClient* llm,
                             AnswerOptions options)
    : router_(router),
      models_(models),
      template_(prompt_template),
      llm_(llm),
      options_(std::move(options)),
      extractive_(options_.extractive_sentences) {}

grpc::Status AnswerService::Ask(grpc::ServerContext* context, const v1::AskRequest* request,
                                grpc::ServerWriter<v1::AskResponse>* writer) {
  runtime::CallGate::Pass pass(gate_);
  if (!pass.admitted()) return grpc::Status(grpc::StatusCode::UNAVAILABLE, "shutting down");
  const absl::Status status = Run(*context, *request, *writer);
  if (!status.ok()) {
    runtime::Logger("answer")->debug("ask failed: {}", status.ToString());
  }
  return runtime::ToGrpcStatus(status);
}

std::chrono::system_clock::time_point AnswerService::Deadline(
    const grpc::ServerContext& context) const {
  const auto fallback = std::chrono::system_clock::now() + options_.default_timeout;
  return std::min(context.deadline(), fallback);
}

absl::StatusOr<AnswerService::Plan> AnswerService::MakePlan(const v1::AskRequest& request) {
  const absl::string_view question = absl::StripAsciiWhitespace(request.question());
  if (question.empty()) return absl::InvalidArgumentError("question is empty");
  if (request.question().size() > options_.max_question_bytes) {
    return absl::InvalidArgumentError(absl::StrCat("question has ", request.question().size(),
                                                   " bytes; the limit is ",
                                                   options_.max_question_bytes));
  }
  if (request.k() > options_.max_k) {
    return absl::InvalidArgumentError(
        absl::StrCat("k is ", request.k(), "; the limit is ", options_.max_k));
  }

  Plan plan;
  const std::string& model = request.model().empty() ? options_.default_model : request.model();
  std::string encoding = request.encoding();
  absl::StatusOr<ModelInfo> resolved = models_->Resolve(model, encoding, request.context_window());
  if (!resolved.ok() && encoding.empty() && !options_.unknown_model_encoding.empty() &&
      absl::IsInvalidArgument(resolved.status())) {
    resolved = models_->Resolve(model, options_.unknown_model_encoding, request.context_window());
  }
  if (!resolved.ok()) return resolved.status();
  plan.model = *std::move(resolved);

  const uint32_t window = plan.model.context_window;
  if (request.token_budget() > 0) {
    if (request.token_budget() > window) {
      return absl::InvalidArgumentError(absl::StrCat("token_budget ", request.token_budget(),
                                                     " exceeds the context window of ", window,
                                                     " tokens of model '", model, "'"));
    }
    plan.budget = request.token_budget();
  } else {
    const uint32_t reserved = request.reserved_answer_tokens() > 0
                                  ? request.reserved_answer_tokens()
                                  : options_.reserved_answer_tokens;
    if (reserved >= window) {
      return absl::InvalidArgumentError(absl::StrCat("reserved_answer_tokens ", reserved,
                                                     " leaves nothing of the context "
                                                     "window of ",
                                                     window, " tokens of model '", model, "'"));
    }
    plan.budget = window - reserved;
  }

  if (!v1::AnswerMode_IsValid(request.mode())) {
    return absl::InvalidArgumentError(absl::StrCat("unknown mode ", request.mode()));
  }
  plan.mode = request.mode();
  if (plan.mode == v1::ANSWER_MODE_UNSPECIFIED) {
    plan.mode = llm_ != nullptr ? v1::ANSWER_MODE_LLM : v1::ANSWER_MODE_EXTRACTIVE;
  }
  if (plan.mode == v1::ANSWER_MODE_LLM && llm_ == nullptr) {
    return absl::FailedPreconditionError(
        "mode llm was asked for, but this answer service has no LLM configured (--llm-url)");
  }

  const v1::PackingOptions& packing = request.packing();
  plan.packing = options_.packing;
  plan.packing.mmr = packing.mmr() || options_.packing.mmr;
  if (packing.mmr_lambda() != 0) {
    if (!(packing.mmr_lambda() > 0 && packing.mmr_lambda() <= 1)) {
      return absl::InvalidArgumentError(
          absl::StrCat("packing.mmr_lambda is ", packing.mmr_lambda(), "; it must be in (0, 1]"));
    }
    plan.packing.mmr_lambda = packing.mmr_lambda();
  } else if (plan.packing.mmr_lambda <= 0) {
    plan.packing.mmr_lambda = kDefaultMmrLambda;
  }
  if (packing.has_duplicate_threshold()) {
    if (!(packing.duplicate_threshold() >= 0)) {
      return absl::InvalidArgumentError("packing.duplicate_threshold must not be negative");
    }
    plan.packing.duplicate_threshold = packing.duplicate_threshold();
  }
  if (packing.min_cut_tokens() > 0) plan.packing.min_cut_tokens = packing.min_cut_tokens();
  if (plan.packing.min_cut_tokens == 0) plan.packing.min_cut_tokens = kDefaultMinCutTokens;
  if (request.has_min_score()) plan.packing.min_score = request.min_score();
  return plan;
}

absl::Status AnswerService::CheckAccess(const grpc::ServerContext& context,
                                        const v1::AskRequest& request) const {
  if (options_.api_keys == nullptr) return absl::OkStatus();
  absl::StatusOr<runtime::ApiKeyGrant> grant = options_.api_keys->Authenticate(context);
  if (!grant.ok()) return grant.status();
  return runtime::AuthorizeTenant(*grant, request.principal().tenant());
}

absl::StatusOr<v1::RouterSearchResponse> AnswerService::Search(
    const grpc::ServerContext& caller, const v1::AskRequest& request,
    std::chrono::system_clock::time_point deadline) {
  v1::RouterSearchRequest search;
  search.set_text(request.question());
  search.set_k(request.k() > 0 ? request.k() : options_.default_k);
  *search.mutable_principal() = request.principal();
  *search.mutable_filter() = request.filter();
  search.set_include_text(true);

  grpc::ClientContext context;
  context.set_deadline(deadline);
  runtime::ForwardAuthorization(caller, context);
  v1::RouterSearchResponse found;
  const grpc::Status status = router_->Search(&context, search, &found);
  if (status.ok()) return found;

  const std::string router = options_.router_address.empty()
                                 ? std::string("the router")
                                 : absl::StrCat("router ", options_.router_address);
  switch (status.error_code()) {
    case grpc::StatusCode::UNAVAILABLE:
      return absl::UnavailableError(
          absl::StrCat(router, " is unavailable: ", status.error_message()));
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return absl::DeadlineExceededError(
          absl::StrCat("the search through ", router, " did not finish before the deadline"));
    default:
      return absl::Status(runtime::FromGrpcStatus(status).code(),
                          absl::StrCat(router, " refused the search: ", status.error_message()));
  }
}

absl::Status AnswerService::Run(grpc::ServerContext& context, const v1::AskRequest& request,
                                grpc::ServerWriter<v1::AskResponse>& writer) {
  if (absl::Status allowed = CheckAccess(context, request); !allowed.ok()) return allowed;
  absl::StatusOr<Plan> plan = MakePlan(request);
  if (!plan.ok()) return plan.status();
  const auto deadline = Deadline(context);
  const text::Tokenizer& tokenizer = *plan->model.tokenizer;

  absl::StatusOr<v1::RouterSearchResponse> found = Search(context, request, deadline);
  if (!found.ok()) return found.status();
  const std::vector<Passage> passages = PassagesOf(*found);

  const PromptPacker packer(template_, plan->packing);
  absl::StatusOr<PackedPrompt> packed =
      packer.Pack(tokenizer, request.question(), passages, plan->budget);
  if (!packed.ok()) return packed.status();
  if (options_.metrics != nullptr) options_.metrics->Packed(*packed);
  runtime::Logger("answer")->debug(
      "ask: model={} mode={} candidates={} used={} prompt_tokens={} budget={}", plan->model.name,
      ModeName(plan->mode), passages.size(), packed->sources.size(), packed->prompt_tokens,
      packed->budget);

  if (!writer.Write(
          PromptMessage(plan->model.name, plan->mode, tokenizer, *found, passages, *packed))) {
    return CallerGone();
  }

  switch (plan->mode) {
    case v1::ANSWER_MODE_PROMPT:
      if (!writer.Write(DoneMessage("prompt", 0))) return CallerGone();
      return absl::OkStatus();

    case v1::ANSWER_MODE_EXTRACTIVE: {
      std::vector<CitedPassage> cited;
      for (const PackedSource& source : packed->sources) {
        cited.push_back({source.citation, source.text});
      }
      const std::string answer = extractive_.Answer(request.question(), cited);
      if (!answer.empty() && !writer.Write(DeltaMessage(answer))) return CallerGone();
      const absl::string_view reason = answer.empty() ? "no_match" : "extractive";
      if (!writer.Write(DoneMessage(reason, tokenizer.Count(answer)))) return CallerGone();
      return absl::OkStatus();
    }

    default: {
      std::string answer;
      ChatCompletionClient::Request chat{plan->model.name, packed->messages, 0, deadline};
      const auto asked = std::chrono::steady_clock::now();
      double first_text_seconds = -1;
      absl::StatusOr<ChatCompletionClient::Result> result = llm_->Stream(
          chat,
          [&](absl::string_view text) {
            if (first_text_seconds < 0) first_text_seconds = SecondsSince(asked);
            answer.append(text.data(), text.size());
            return writer.Write(DeltaMessage(text));
          },
          [&] { return context.IsCancelled(); });
      if (options_.metrics != nullptr) {
        if (result.ok()) {
          options_.metrics->LlmDone(first_text_seconds, SecondsSince(asked));
        } else {
          options_.metrics->LlmFailed(result.status().code());
        }
      }
      if (!result.ok()) return result.status();
      const std::string reason = result->finish_reason.empty() ? "stop" : result->finish_reason;
      if (!writer.Write(DoneMessage(reason, tokenizer.Count(answer)))) return CallerGone();
      return absl::OkStatus();
    }
  }
}

}  // namespace quarry::answer
