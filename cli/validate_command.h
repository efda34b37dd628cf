// `llmeval validate DATASET`: checks every line of a JSONL dataset with the rules `run` applies
// (core/dataset/jsonl_reader.h), without calling any provider, and reports each bad line and a
// count summary (docs/formats.md §1). Streams: memory stays bounded whatever the dataset's size.
#pragma once

#include <functional>

#include <CLI/CLI.hpp>

namespace llmeval::cli {

// Registers `validate`; the returned function runs it after parsing and returns the exit code
// (0 every line valid, 1 some line invalid), or -1 when `validate` was not the command. Throws
// FatalError (exit 2) when the dataset cannot be read, the download fails or the config is bad.
std::function<int()> register_validate_command(CLI::App& app);

}  // namespace llmeval::cli
