#include "services/cli/answer_command.h"

#include <signal.h>

#include <cstdlib>
#include <fstream>
#include <memory>
#include <string>

#include "services/answer/answer_server.h"
#include "services/cli/config_file.h"
#include "services/cli/security_flags.h"
#include "services/cli/service_flags.h"
#include "services/runtime/log.h"
#include "services/runtime/server.h"

namespace quarry::cli {
namespace {

struct AnswerFlags {
  answer::AnswerServerOptions server;
  std::string system_instruction_file;
  double llm_timeout_s = 120;
  double llm_idle_timeout_s = 30;
  double default_timeout_s = 120;
  runtime::TlsFiles tls;
  std::string api_keys_file;
  ServiceFlags service;
};

std::chrono::milliseconds Millis(double seconds) {
  return std::chrono::milliseconds(static_cast<int64_t>(seconds * 1000));
}

// The value of environment variable `name`, or `fallback` when unset or empty.
std::string FromEnvironment(const char* name, const std::string& fallback) {
  const char* value = std::getenv(name);
  return value != nullptr && *value != '\0' ? std::string(value) : fallback;
}

int RunAnswer(AnswerFlags flags, const std::string& configuration) {
  runtime::BlockTerminationSignals();
  absl::Status logging = runtime::ConfigureLogging(flags.service.log_level, flags.service.log_json);
  auto log = runtime::Logger("answer");
  if (!logging.ok()) {
    log->error("{}", logging.message());
    return 2;
  }

  answer::AnswerServerOptions& options = flags.server;
  options.metrics_listen = flags.service.metrics_listen;
  if (absl::Status llm = ApplyLlmEnvironment(options); !llm.ok()) {
    log->error("{}", llm.message());
    return 2;
  }
  if (!flags.system_instruction_file.empty()) {
    std::ifstream in(flags.system_instruction_file);
    if (!in) {
      log->error("cannot read the system instruction file {}", flags.system_instruction_file);
      return 2;
    }
    options.system_instruction.assign(std::istreambuf_iterator<char>(in), {});
  }
  absl::StatusOr<runtime::TlsConfig> tls =
      runtime::TlsConfig::Load(flags.tls, runtime::TlsRole::kService);
  if (!tls.ok()) {
    log->error("{}", tls.status().message());
    return 2;
  }
  options.tls = *std::move(tls);
  absl::StatusOr<std::shared_ptr<const runtime::ApiKeyTable>> api_keys =
      LoadApiKeys(flags.api_keys_file);
  if (!api_keys.ok()) {
    log->error("{}", api_keys.status().message());
    return 2;
  }
  options.service.api_keys = *std::move(api_keys);
  options.llm.timeout = Millis(flags.llm_timeout_s);
  options.llm.idle_timeout = Millis(flags.llm_idle_timeout_s);
  options.service.default_timeout = Millis(flags.default_timeout_s);

  log->info(
      "quarry {} answer starting: listen={} router={} llm={} model={} api_key={} "
      "reserved_answer_tokens={} k={} duplicate_threshold={} mmr={} transport={} api_keys={}",
      runtime::Version(), options.listen, options.router,
      options.llm_url.empty() ? "none (extractive answers)" : options.llm_url,
      options.llm_model.empty() ? options.service.default_model : options.llm_model,
      options.llm_api_key.empty() ? "unset" : "set", options.service.reserved_answer_tokens,
      options.service.default_k, options.service.packing.duplicate_threshold,
      options.service.packing.mmr, options.tls.Describe(),
      options.service.api_keys
          ? std::to_string(options.service.api_keys->size()) + " from " + flags.api_keys_file
          : std::string("off"));
  log->info("effective configuration: {}", configuration);

  absl::StatusOr<std::unique_ptr<answer::AnswerServer>> server =
      answer::AnswerServer::Start(options);
  if (!server.ok()) {
    log->error("{}", server.status().message());
    return absl::IsInvalidArgument(server.status()) ? 2 : 1;
  }
  log->info("listening on port {}", (*server)->port());
  WritePortFile(flags.service, (*server)->port());

  int signal_number;
  while ((signal_number = runtime::WaitForSignal()) == SIGHUP) {
    log->info("SIGHUP ignored: the answer service has nothing to reload");
  }
  log->info("received signal {}; draining", signal_number);
  (*server)->Shutdown(flags.service.drain());
  log->info("stopped cleanly");
  return 0;
}

}  // namespace

absl::Status ApplyLlmEnvironment(answer::AnswerServerOptions& options) {
  if (options.llm_url.empty()) options.llm_url = FromEnvironment("QUARRY_LLM_URL", "");
  if (options.llm_model.empty()) options.llm_model = FromEnvironment("QUARRY_LLM_MODEL", "");
  options.llm_api_key = FromEnvironment("QUARRY_LLM_API_KEY", "");
  if (!options.llm_url.empty() && options.llm_model.empty()) {
    return absl::InvalidArgumentError("--llm-url needs --llm-model (or QUARRY_LLM_MODEL)");
  }
  return absl::OkStatus();
}

void AddAnswerCommand(CLI::App& app, std::function<int()>* run) {
  auto flags = std::make_shared<AnswerFlags>();
  answer::AnswerServerOptions& server = flags->server;
  CLI::App* command = app.add_subcommand(
      "answer", "Serve the Answer API: token-budgeted prompts with citations, streamed answers");
  command->add_option("--listen", server.listen, "Address to serve gRPC on (host:port)")
      ->capture_default_str();
  command->add_option("--router", server.router, "Router address (host:port)")
      ->capture_default_str();
  command->add_option("--llm-url", server.llm_url,
                      "OpenAI-compatible API base, e.g. http://127.0.0.1:8000/v1 (env "
                      "QUARRY_LLM_URL); none: answers are extractive");
  command->add_option("--llm-model", server.llm_model,
                      "Model to ask, and the default target model (env QUARRY_LLM_MODEL); the "
                      "API key comes from QUARRY_LLM_API_KEY");
  command
      ->add_option("--default-model", server.service.default_model,
                   "Target model of requests that name none, when no --llm-model is given")
      ->capture_default_str();
  command->add_option("--unknown-model-encoding", server.service.unknown_model_encoding,
                      "Tokenizer (cl100k_base or o200k_base) for models not in the built-in "
                      "list; unset: such models are refused");
  command->add_option("--system-instruction-file", flags->system_instruction_file,
                      "File holding the system instruction of every prompt");
  command
      ->add_option("--reserved-answer-tokens", server.service.reserved_answer_tokens,
                   "Tokens of the context window kept for the answer when no budget is given")
      ->capture_default_str();
  command->add_option("-k", server.service.default_k, "Passages to ask the router for")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000));
  command
      ->add_option("--duplicate-threshold", server.service.packing.duplicate_threshold,
                   "Shingle overlap at which a passage is dropped as a duplicate (above 1: "
                   "never)")
      ->capture_default_str();
  command->add_flag("--mmr", server.service.packing.mmr,
                    "Reorder passages by maximal marginal relevance by default");
  command->add_option("--llm-timeout", flags->llm_timeout_s, "Seconds an answer may stream at most")
      ->capture_default_str();
  command
      ->add_option("--llm-idle-timeout", flags->llm_idle_timeout_s,
                   "Seconds of silence after which an answer is abandoned")
      ->capture_default_str()
      ->check(CLI::Range(1.0, 3600.0));
  command
      ->add_option("--default-timeout", flags->default_timeout_s,
                   "Seconds a call may take when the caller sets no deadline")
      ->capture_default_str();
  AddServiceOptions(command, &flags->service);
  AddTlsOptions(command, &flags->tls, TlsUse::kServerAndClient);
  AddApiKeysOption(command, &flags->api_keys_file);
  command->callback([flags, run, command] {
    *run = [flags, configuration = EffectiveConfiguration(*command)] {
      return RunAnswer(*flags, configuration);
    };
  });
}

}  // namespace quarry::cli
