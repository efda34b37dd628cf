// `llmeval batches OUT`: the batches a run --batch recorded for the results file OUT (its
// journal OUT.batches.jsonl), each with what the provider says of it now: its status and how
// many of its requests are done. --cancel asks the provider to cancel those still open.
// Providers are those of the run (-c / -p), for their addresses and keys (docs/batch.md).
#pragma once

#include <functional>

#include <CLI/CLI.hpp>

namespace llmeval::cli {

// Registers `batches`; the returned function runs it after parsing and returns the exit code
// (0; 1 when a provider could not be asked), or -1 when `batches` was not the command.
std::function<int()> register_batches_command(CLI::App& app);

}  // namespace llmeval::cli
