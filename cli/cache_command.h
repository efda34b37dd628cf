// `llmeval cache stats|clear`: looks at or empties this machine's judge cache (docs/cache.md):
// the file the config's cache.path names, else $XDG_CACHE_HOME/llmeval (else ~/.cache/llmeval).
// The shared cache in Redis expires by itself (cache.ttl); it is not touched here.
#pragma once

#include <functional>

#include <CLI/CLI.hpp>

namespace llmeval::cli {

// Registers `cache`; the returned function runs it after parsing and returns the exit code (0),
// or -1 when `cache` was not the command. Throws FatalError (exit 2) when the cache cannot be
// opened or the config is bad.
std::function<int()> register_cache_command(CLI::App& app);

}  // namespace llmeval::cli
