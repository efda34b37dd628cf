// `llmeval serve`: flags -> settings, the listening sockets, one ServeWorker per loop thread,
// and the main thread's control loop (signals: SIGTERM/SIGINT drain, then exit 0).
#pragma once

#include <functional>

#include <CLI/CLI.hpp>

namespace llmeval::cli {

// Registers `serve` on the app; the returned function executes it after parsing and returns
// the exit code, or -1 when `serve` was not the command (throws FatalError for setup problems).
std::function<int()> register_serve_command(CLI::App& app);

}  // namespace llmeval::cli
