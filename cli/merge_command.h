// `llmeval merge PART... -o OUT`: the shard outputs of a sharded run -> one results file in
// dataset line order, plus the summary (docs/formats.md §1, §9). Refusals exit 2 and write nothing.
#pragma once

#include <functional>

#include <CLI/CLI.hpp>

namespace llmeval::cli {

// Registers `merge`; the returned function runs it after parsing and returns the exit code, or
// -1 when `merge` was not the command.
std::function<int()> register_merge_command(CLI::App& app);

}  // namespace llmeval::cli
