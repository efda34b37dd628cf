// Config: the JSON config file (docs/formats.md §8), parsed and validated. Flags override it in
// the CLI. Parsing is pure (JSON in, Config out); a problem is an Error naming the field (the CLI
// exits 2: a bad config is a setup error).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/common/error.h"
#include "core/dataset/criterion.h"
#include "core/provider/provider_config.h"

namespace llmeval::config {

struct RetryConfig {
  int max_attempts = 4;  // first try + retries, per provider (docs/cli.md: --retries 3)
  std::chrono::milliseconds base{250};
  std::chrono::milliseconds max{20000};
  double budget_ratio = 0.1;  // retries per request over the last 10 s, per provider...
  int budget_min = 10;        // ...on top of this many
  std::chrono::milliseconds row_deadline{300000};  // no retries after this long per row; 0 = none
};

struct JudgeConfig {
  dataset::Scale scale = dataset::Scale::k1to5;
  // Unset: each provider's model family decides (0, or none for models that refuse it); set to
  // nullopt (config null): never sent. A provider's own "temperature" wins.
  std::optional<std::optional<double>> temperature;
  int max_tokens = 256;
  // Fall back only to providers that run the same judge model as the first one, so every
  // score of a run comes from one model (comparable runs). Off: any provider of the chain.
  bool same_model_only = false;
};

struct RedisConfig {
  std::string url;
  std::string prefix = "llmeval:";
  std::chrono::milliseconds timeout{50};  // one Redis call's deadline before degrading
};

struct BreakerConfig {
  double failure_rate = 0.5;
  int min_calls = 10;
  std::chrono::seconds window{30};
  std::chrono::seconds open{30};
  int consecutive_failures = 5;
  int half_open_probes = 1;
};

struct Config {
  std::vector<provider::ProviderConfig> providers;
  RedisConfig redis;
  BreakerConfig breaker;
  RetryConfig retry;
  JudgeConfig judge;
  std::vector<std::pair<std::string, std::string>> criteria;  // default criteria: name -> rubric
};

Result<Config> parse_config(const nlohmann::json& json);
// Reads and parses a config file; errors name the path.
Result<Config> load_config_file(const std::string& path);

}  // namespace llmeval::config
