// `llmeval run`: flags -> RunOptions, builds the real parts (loop, HTTP client, providers,
// limiter, reader, writer, summary), runs the Runner, and returns the docs/formats.md §5 exit code.
#pragma once

#include <CLI/CLI.hpp>

namespace llmeval::cli {

// Registers `run` on the app; the returned function executes it after parsing and returns the
// exit code (throws FatalError for setup problems).
std::function<int()> register_run_command(CLI::App& app);

}  // namespace llmeval::cli
