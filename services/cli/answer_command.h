// `quarry answer`: serves the Answer API over a router, with an optional LLM.
#ifndef QUARRY_SERVICES_CLI_ANSWER_COMMAND_H_
#define QUARRY_SERVICES_CLI_ANSWER_COMMAND_H_

#include <CLI/CLI.hpp>
#include <functional>

#include "absl/status/status.h"
#include "services/answer/answer_server.h"

namespace quarry::cli {

// Fills the LLM endpoint, model and key the flags left empty from QUARRY_LLM_URL,
// QUARRY_LLM_MODEL and QUARRY_LLM_API_KEY (the key only ever from the environment).
// INVALID_ARGUMENT when an endpoint has no model.
absl::Status ApplyLlmEnvironment(answer::AnswerServerOptions& options);

// Adds the subcommand to `app`; `*run` is set to the function that runs it.
void AddAnswerCommand(CLI::App& app, std::function<int()>* run);

}  // namespace quarry::cli

#endif  // QUARRY_SERVICES_CLI_ANSWER_COMMAND_H_
