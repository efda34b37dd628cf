// llmeval: builds the CLI11 app, registers the subcommands, and maps errors to exit codes
// (SPEC §5: 2 for usage and configuration errors).
#include <cstdio>
#include <exception>

#include <CLI/CLI.hpp>

#include "cli/merge_command.h"
#include "cli/probe_command.h"
#include "cli/report_command.h"
#include "cli/run_command.h"
#include "cli/serve_command.h"
#include "cli/validate_command.h"
#include "core/common/error.h"

int main(int argc, char** argv) {
  CLI::App app{"llmeval: judge LLM outputs against criteria with an LLM judge, at scale"};
  app.set_version_flag("--version", std::string("llmeval ") + LLMEVAL_VERSION);
  app.require_subcommand(1);
  auto run = llmeval::cli::register_run_command(app);
  auto serve = llmeval::cli::register_serve_command(app);
  auto merge = llmeval::cli::register_merge_command(app);
  auto report = llmeval::cli::register_report_command(app);
  auto validate = llmeval::cli::register_validate_command(app);
  auto probe = llmeval::cli::register_probe_command(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? 0 : 2;
  }
  try {
    int code = run();
    if (code < 0) code = serve();
    if (code < 0) code = merge();
    if (code < 0) code = report();
    if (code < 0) code = validate();
    if (code < 0) code = probe();
    return code < 0 ? 2 : code;
  } catch (const llmeval::FatalError& e) {
    std::fprintf(stderr, "llmeval: error: %s\n", e.what());
    return e.exit_code();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "llmeval: error: %s\n", e.what());
    return 2;
  }
}
