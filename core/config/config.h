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
#include "core/resilience/call_policy.h"
#include "core/resilience/circuit_breaker.h"
#include "core/resilience/retry_budget.h"

namespace llmeval::config {

// The "retry" section: the call policy's attempts, backoff and row deadline, and each
// provider's retry budget. The engine takes these structs as they are (flags may override).
struct RetryConfig {
  resilience::CallPolicyOptions policy;
  resilience::RetryBudgetOptions budget;
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
  // A jury instead of a fallback chain (--jury): "mean", "median" or "majority"; empty: none.
  std::string jury;
  int jury_quorum = 0;  // jurors that must answer (--jury-quorum); 0: a majority of them
};

struct RedisConfig {
  std::string url;
  std::string prefix = "llmeval:";
  std::chrono::milliseconds timeout{50};  // one Redis call's deadline before degrading
};

// The "cache" section: the judge cache (docs/cache.md).
struct CacheConfig {
  std::string path;  // the local SQLite file; empty: $XDG_CACHE_HOME/llmeval (else ~/.cache/llmeval)
  std::int64_t max_mb = 1024;
  std::chrono::seconds ttl = std::chrono::hours(24 * 30);
  std::string url;  // Redis for the shared cache; empty: the run's --redis (if any)
};

struct Config {
  std::vector<provider::ProviderConfig> providers;
  RedisConfig redis;
  resilience::BreakerOptions breaker;
  RetryConfig retry;
  JudgeConfig judge;
  CacheConfig cache;
  std::vector<std::pair<std::string, std::string>> criteria;  // default criteria: name -> rubric
};

Result<Config> parse_config(const nlohmann::json& json);
// Reads and parses a config file; errors name the path.
Result<Config> load_config_file(const std::string& path);

}  // namespace llmeval::config
