// llmeval: builds the CLI11 app, registers the subcommands from one table, runs the one given,
// and maps errors to exit codes in one place (docs/formats.md §5: 2 for usage and configuration
// errors; a command's FatalError says its own).
#include <csignal>
#include <cstdio>
#include <exception>
#include <functional>
#include <vector>

#include <CLI/CLI.hpp>

#include "cli/batches_command.h"
#include "cli/cache_command.h"
#include "cli/compare_command.h"
#include "cli/fatal_error.h"
#include "cli/merge_command.h"
#include "cli/probe_command.h"
#include "cli/report_command.h"
#include "cli/run_command.h"
#include "cli/serve_command.h"
#include "cli/validate_command.h"

namespace {

// Each registers its subcommand and returns what runs it: the exit code, or -1 when another
// subcommand was given. The order is the order of `llmeval --help`.
using Register = std::function<int()> (*)(CLI::App&);
constexpr Register kSubcommands[] = {
    llmeval::cli::register_run_command,    llmeval::cli::register_serve_command,
    llmeval::cli::register_merge_command,  llmeval::cli::register_report_command,
    llmeval::cli::register_compare_command,
    llmeval::cli::register_validate_command, llmeval::cli::register_probe_command,
    llmeval::cli::register_cache_command,  llmeval::cli::register_batches_command,
};

}  // namespace

int main(int argc, char** argv) {
  // A results file that reaches the process's file-size limit (ulimit -f) fails its write with
  // EFBIG and gets the run's own message, instead of the signal killing the process mid-line.
  std::signal(SIGXFSZ, SIG_IGN);

  CLI::App app{"llmeval: judge LLM outputs against criteria with an LLM judge, at scale"};
  app.set_version_flag("--version", std::string("llmeval ") + LLMEVAL_VERSION);
  app.require_subcommand(1);
  std::vector<std::function<int()>> commands;
  for (Register add : kSubcommands) commands.push_back(add(app));
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? 0 : 2;
  }
  try {
    for (const auto& command : commands) {
      if (int code = command(); code >= 0) return code;
    }
    return 2;
  } catch (const llmeval::FatalError& e) {
    std::fprintf(stderr, "llmeval: error: %s\n", e.what());
    return e.exit_code();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "llmeval: error: %s\n", e.what());
    return 2;
  }
}
