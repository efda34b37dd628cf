// --shard: which rows of a dataset this process judges (docs/formats.md §1, §9). `I/N` takes the rows whose
// line L has (L - 1) % N == I; `auto` reads I from JOB_COMPLETION_INDEX (set by Kubernetes in
// each pod of an Indexed Job) and N from LLMEVAL_SHARD_COUNT (Kubernetes does not tell a pod the
// completion count). Output paths name their shard with {index} and {count}.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace llmeval::cli {

struct Shard {
  std::int64_t index = 0;
  std::int64_t count = 1;
};

// Throws FatalError (exit 2: nothing is evaluated) naming what is missing or inconsistent.
Shard parse_shard(const std::string& text);

// `path` with every {index} and {count} replaced. Throws FatalError when the path has them but
// there is no shard (each shard must write its own file).
std::string expand_shard_path(const std::string& flag, const std::string& path, const std::optional<Shard>& shard);

}  // namespace llmeval::cli
