#include "cli/shard_option.h"

#include <charconv>
#include <cstdlib>
#include <string_view>

#include "cli/fatal_error.h"
#include "core/common/error.h"

namespace llmeval::cli {
namespace {

std::optional<std::int64_t> number(std::string_view text) {
  std::int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

std::int64_t env_number(const char* name, const char* meaning) {
  const char* value = std::getenv(name);
  if (value == nullptr || *value == '\0') {
    throw FatalError(std::string("--shard auto needs ") + name + " (" + meaning + ") in the environment");
  }
  auto parsed = number(value);
  if (!parsed) throw FatalError(std::string("--shard auto: ") + name + "=" + value + " is not a whole number");
  return *parsed;
}

void check(const Shard& shard, const std::string& given) {
  if (shard.count < 1) throw FatalError("--shard " + given + ": the shard count must be at least 1");
  if (shard.index < 0 || shard.index >= shard.count) {
    throw FatalError("--shard " + given + ": the index must be from 0 to " + std::to_string(shard.count - 1) +
                     " for " + std::to_string(shard.count) + " shards");
  }
}

void replace_all(std::string& text, std::string_view from, const std::string& to) {
  for (std::size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size())) {
    text.replace(at, from.size(), to);
  }
}

}  // namespace

Shard parse_shard(const std::string& text) {
  Shard shard;
  if (text == "auto") {
    shard.index = env_number("JOB_COMPLETION_INDEX", "this pod's index, set by an Indexed Job");
    shard.count = env_number("LLMEVAL_SHARD_COUNT", "the number of shards: the Job's completions");
    check(shard, "auto (JOB_COMPLETION_INDEX=" + std::to_string(shard.index) +
                     ", LLMEVAL_SHARD_COUNT=" + std::to_string(shard.count) + ")");
    return shard;
  }
  std::size_t slash = text.find('/');
  auto index = slash == std::string::npos ? std::nullopt : number(std::string_view(text).substr(0, slash));
  auto count = slash == std::string::npos ? std::nullopt : number(std::string_view(text).substr(slash + 1));
  if (!index || !count) throw FatalError("--shard " + text + ": expected I/N (e.g. 0/4) or auto");
  shard.index = *index;
  shard.count = *count;
  check(shard, text);
  return shard;
}

std::string expand_shard_path(const std::string& flag, const std::string& path, const std::optional<Shard>& shard) {
  bool has_placeholder = path.find("{index}") != std::string::npos || path.find("{count}") != std::string::npos;
  if (!has_placeholder) return path;
  if (!shard) throw FatalError(flag + " " + path + " names a shard ({index}, {count}), but there is no --shard");
  std::string expanded = path;
  replace_all(expanded, "{index}", std::to_string(shard->index));
  replace_all(expanded, "{count}", std::to_string(shard->count));
  return expanded;
}

}  // namespace llmeval::cli
