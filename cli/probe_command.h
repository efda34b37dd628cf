// `llmeval probe`: one tiny judge call to every provider of the chain (-p SPEC... or the
// config's), all at once on one loop, straight to each provider (no retries, no fallback), and a
// table of what each call showed: reachable, key accepted, can judge, structured-output mode in
// effect, latency, the parameters the provider adapted at run time, and the rate-limit headers
// of the reply. --json prints the same as a JSON array.
#pragma once

#include <functional>

#include <CLI/CLI.hpp>

namespace llmeval::cli {

// Registers `probe`; the returned function runs it after parsing and returns the exit code (0
// every provider can judge, 1 some cannot), or -1 when `probe` was not the command. Throws
// FatalError (exit 2) for a bad config or provider spec.
std::function<int()> register_probe_command(CLI::App& app);

}  // namespace llmeval::cli
