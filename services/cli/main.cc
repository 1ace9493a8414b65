// quarry: one binary for every part of the cluster and the tools that talk to it.
#include <CLI/CLI.hpp>
#include <functional>

#include "services/cli/answer_command.h"
#include "services/cli/ask_command.h"
#include "services/cli/backup_command.h"
#include "services/cli/config_file.h"
#include "services/cli/ingest_command.h"
#include "services/cli/local_command.h"
#include "services/cli/restore_command.h"
#include "services/cli/router_command.h"
#include "services/cli/search_command.h"
#include "services/cli/shard_command.h"
#include "services/cli/status_command.h"
#include "services/cli/tokens_command.h"

int main(int argc, char** argv) {
  CLI::App app{"Quarry: a retrieval cluster for retrieval-augmented generation"};
  app.require_subcommand(1);
  quarry::cli::AddConfigFileOption(app);
  std::function<int()> run;
  quarry::cli::AddShardCommand(app, &run);
  quarry::cli::AddRouterCommand(app, &run);
  quarry::cli::AddAnswerCommand(app, &run);
  quarry::cli::AddSearchCommand(app, &run);
  quarry::cli::AddIngestCommand(app, &run);
  quarry::cli::AddAskCommand(app, &run);
  quarry::cli::AddTokensCommand(app, &run);
  quarry::cli::AddLocalCommand(app, &run);
  quarry::cli::AddStatusCommand(app, &run);
  quarry::cli::AddBackupCommand(app, &run);
  quarry::cli::AddRestoreCommand(app, &run);
  CLI11_PARSE(app, argc, argv);
  return run ? run() : 0;
}
