// The judging engine as `run` and `serve` both build it: the flags they share, the settings
// those flags and the config file resolve to (providers with their API keys from the
// environment, judge, retry and breaker options, the Redis URL), and Engine, the parts one event
// loop judges with.
#pragma once

#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/cache/judge_cache.h"
#include "core/cache/local_judge_cache.h"
#include "core/common/clock.h"
#include "core/common/event_loop.h"
#include "core/config/config.h"
#include "core/dataset/jsonl_reader.h"
#include "core/metrics/engine_metrics.h"
#include "core/provider/provider.h"
#include "core/provider/provider_config.h"
#include "core/resilience/local_rate_limiter.h"
#include "core/runner/evaluator.h"

namespace llmeval::cli {

struct EngineFlags {
  std::string config_path;
  std::vector<std::string> providers;
  int concurrency = 64;
  std::optional<std::int64_t> rpm;
  std::optional<std::int64_t> tpm;
  std::string burst;  // a duration: how much of rpm/tpm may go out at once
  std::string redis_url;
  std::string timeout;
  std::optional<int> retries;
  bool quiet = false;
  int verbose = 0;
  std::string log_format = "text";
  bool no_cache = false;
  std::string cache_mode;  // off|read|write|readwrite; empty: LLMEVAL_CACHE, else readwrite
  std::string jury;        // mean|median|majority; empty: the config's judge.jury, else none
  std::optional<int> jury_quorum;
};

// -c, -p, -j, --rpm, --tpm, --redis, --timeout, --retries, --no-cache, --cache-mode, --jury,
// --jury-quorum, -q, -v, --log-format.
void add_engine_flags(CLI::App& command, EngineFlags& flags);

// warn by default; -q errors only; -v debug; -vv trace (max_verbosity caps it).
spdlog::level::level_enum log_level(const EngineFlags& flags, spdlog::level::level_enum default_level,
                                    int max_verbosity = 2);

// The judge cache (docs/cache.md): where it lives and what a run does with it.
struct CacheSettings {
  cache::CacheMode mode = cache::CacheMode::kReadWrite;
  cache::LocalCacheOptions local;  // path, size bound, TTL
  std::string redis_url;           // the shared cache; empty: none
  std::string redis_prefix;
};

struct EngineSettings {
  config::Config config;
  std::vector<provider::ProviderConfig> providers;  // the fallback chain, API keys resolved
  runner::EvaluatorOptions evaluator;               // metrics left unset
  std::string redis_url;                            // empty: limits in this process only
  dataset::ReaderOptions reader;                    // default scale and criteria from the config
  CacheSettings cache;

  std::map<std::string, provider::Price> prices() const;
};

// Loads the config (--config, else LLMEVAL_CONFIG), resolves the providers and their keys.
// Throws FatalError (exit 2) with a message for the user.
EngineSettings resolve_engine_settings(const EngineFlags& flags);

// Names this process (or one loop thread of it) in Redis: unique across pods and restarts.
std::string process_id();

// The parts one event loop judges with: HTTP client, providers, breakers, retry budgets, and a
// rate limiter and probe lease, shared through Redis when the settings name one. Without Redis
// it uses `local_limiter` when given (shared by several loops; its limits are the caller's to
// set), else a LocalRateLimiter of its own. Everything borrowed must outlive the engine.
class Engine {
 public:
  Engine(LibeventLoop& loop, Clock& clock, const EngineSettings& settings, metrics::EngineMetrics& metrics,
         const std::string& process_id, resilience::RateLimiter* local_limiter = nullptr);
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  const std::vector<runner::ProviderSlot>& chain() const;
  resilience::RateLimiter& limiter();
  // The judge cache for evaluators on this loop (EvaluatorOptions::cache), or null when off or
  // unavailable on this machine and without Redis.
  cache::JudgeCache* cache();
  // Runs `loop` until the verdicts written to the shared cache have reached Redis, for at most
  // `limit`: a run's last verdicts must not be lost when the process exits.
  void flush_cache(LibeventLoop& loop, std::chrono::milliseconds limit);

 private:
  struct Parts;
  void open_cache(LibeventLoop& loop, const EngineSettings& settings);
  std::unique_ptr<Parts> parts_;
};

}  // namespace llmeval::cli
