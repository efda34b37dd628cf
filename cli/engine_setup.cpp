#include "cli/engine_setup.h"

#include <limits.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <random>

#include "cli/fatal_error.h"
#include "cli/flag_values.h"
#include "core/cache/shared_judge_cache.h"
#include "core/common/ascii.h"
#include "core/common/error.h"
#include "core/common/logging.h"
#include "core/provider/price_table.h"
#include "core/provider/anthropic_provider.h"
#include "core/provider/curl_http_client.h"
#include "core/provider/model_families.h"
#include "core/provider/openai_provider.h"
#include "core/provider/sim_provider.h"
#include "core/redis/redis_client.h"
#include "core/redis/redis_url.h"
#include "core/resilience/redis_adaptation_store.h"
#include "core/resilience/redis_probe_lease.h"
#include "core/resilience/redis_rate_limiter.h"

namespace llmeval::cli {
namespace {

const char* kDefaultOpenAiModel = "gpt-4o-mini";

std::vector<provider::ProviderConfig> resolve_providers(const EngineFlags& flags, const config::Config& config) {
  std::vector<provider::ProviderConfig> chain;
  for (const auto& spec : flags.providers) {
    auto named = std::find_if(config.providers.begin(), config.providers.end(),
                              [&](const provider::ProviderConfig& p) { return p.name == spec; });
    if (named != config.providers.end()) {
      chain.push_back(*named);
      continue;
    }
    auto parsed = provider::parse_provider_spec(spec);
    if (!parsed) throw FatalError(parsed.error().message);
    chain.push_back(std::move(parsed).value());
  }
  // Two -p specs of one type would share a name, and with it a rate-limit bucket and a label
  // in results: number the later ones ("openai", "openai-2", ...).
  for (std::size_t i = 0; i < chain.size(); ++i) {
    int suffix = 1;
    std::string base = chain[i].name;
    auto taken = [&](const std::string& name) {
      for (std::size_t j = 0; j < i; ++j) {
        if (chain[j].name == name) return true;
      }
      return false;
    };
    while (taken(chain[i].name)) chain[i].name = base + "-" + std::to_string(++suffix);
  }
  if (chain.empty()) chain = config.providers;
  if (chain.empty()) {
    const char* key = std::getenv("OPENAI_API_KEY");
    if (key == nullptr || *key == '\0') {
      throw FatalError(
          "no judge provider: pass --provider (e.g. --provider sim for an offline dry run, or "
          "--provider openai:gpt-4o-mini with OPENAI_API_KEY set), or list providers in a config file (--config)");
    }
    auto parsed = provider::parse_provider_spec(std::string("openai:") + kDefaultOpenAiModel);
    chain.push_back(std::move(parsed).value());
  }
  return chain;
}

// Keys come only from the environment. A provider at its vendor's default URL needs one; a
// self-hosted OpenAI-compatible server (vLLM, Ollama) often does not.
void resolve_api_key(provider::ProviderConfig& p) {
  if (p.type == provider::ProviderType::kSim) return;
  const char* key = std::getenv(p.api_key_env.c_str());
  if (key != nullptr && *key != '\0') {
    p.api_key = key;
    return;
  }
  provider::ProviderConfig defaults;
  defaults.type = p.type;
  provider::apply_type_defaults(defaults);
  // A gateway may take its credentials in a configured header instead.
  bool header_auth = std::any_of(p.headers.begin(), p.headers.end(), [](const auto& header) {
    std::string name = ascii_lower(header.first);
    return name == "authorization" || name == "api-key" || name == "x-api-key";
  });
  bool vendor = p.base_url == defaults.base_url || p.type == provider::ProviderType::kAzure ||
                provider::is_azure_host(p.base_url);
  if (vendor && !header_auth) {
    throw FatalError("provider \"" + p.name + "\" needs an API key: set " + p.api_key_env +
                     " in the environment (or use --provider sim for an offline dry run)");
  }
  logger("cli")->info("[provider={}] {} is not set; calling {} without an API key", p.name, p.api_key_env,
                      p.base_url);
}

std::string redis_url_of(const EngineFlags& flags, const config::Config& config) {
  if (!flags.redis_url.empty()) return flags.redis_url;
  if (const char* env = std::getenv("LLMEVAL_REDIS_URL"); env != nullptr && *env != '\0') return env;
  return config.redis.url;
}

runner::EvaluatorOptions evaluator_options(const EngineFlags& flags, const config::Config& config,
                                           const std::vector<provider::ProviderConfig>& providers) {
  runner::EvaluatorOptions options;
  options.concurrency = flags.concurrency;
  options.same_model_only = config.judge.same_model_only;
  const std::string& jury = flags.jury.empty() ? config.judge.jury : flags.jury;
  if (!jury.empty()) {
    options.jury.method = *runner::parse_jury_method(jury);  // both sources are checked
    options.jury.quorum = flags.jury_quorum.value_or(config.judge.jury_quorum);
    if (providers.size() < 2) {
      throw FatalError("--jury needs at least two judges: give several -p (or several providers in the config)");
    }
    if (options.jury.quorum > static_cast<int>(providers.size())) {
      throw FatalError("--jury-quorum " + std::to_string(options.jury.quorum) + " is more than the " +
                       std::to_string(providers.size()) + " jurors");
    }
  } else if (flags.jury_quorum || config.judge.jury_quorum > 0) {
    throw FatalError(std::string(flags.jury_quorum ? "--jury-quorum" : "the config's judge.jury_quorum") +
                     " only goes with --jury (or the config's judge.jury)");
  }
  options.judge.max_tokens = config.judge.max_tokens;
  options.policy = config.retry.policy;
  if (flags.retries) options.policy.max_attempts = *flags.retries + 1;
  // Each provider has its own attempt timeout (resolve_provider_settings); the run's is the
  // longest, for what waits on any of them (a half-open probe's lease).
  options.judge.timeout = std::chrono::milliseconds(0);
  for (const auto& p : providers) options.judge.timeout = std::max(options.judge.timeout, p.timeout.value_or(options.judge.timeout));
  if (options.judge.timeout.count() == 0) options.judge.timeout = judge::JudgeOptions{}.timeout;
  return options;
}

// "${VAR}" in a header value is the environment variable's value (empty when unset, with a
// warning); anything else is kept as written.
std::string expand_header_value(const std::string& value, const std::string& provider, const std::string& header) {
  std::string out;
  for (std::size_t i = 0; i < value.size();) {
    std::size_t open = value.find("${", i);
    std::size_t close = open == std::string::npos ? std::string::npos : value.find('}', open);
    if (close == std::string::npos) {
      out.append(value, i, std::string::npos);
      break;
    }
    out.append(value, i, open - i);
    std::string name = value.substr(open + 2, close - open - 2);
    const char* env = std::getenv(name.c_str());
    if (env == nullptr || *env == '\0') {
      logger("cli")->warn("[provider={}] header {} names ${{{}}}, which is not set; it is sent empty there",
                          provider, header, name);
    } else {
      out += env;
    }
    i = close + 1;
  }
  return out;
}

// The provider settings that come from outside its config entry: the judge's temperature when
// it sets none, the attempt timeout (--timeout for all; else its own; else longer for reasoning
// models), header values from the environment.
void resolve_provider_settings(provider::ProviderConfig& p, const EngineFlags& flags, const config::Config& config) {
  if (!p.temperature && config.judge.temperature) p.temperature = config.judge.temperature;
  if (!flags.timeout.empty()) {
    p.timeout = duration_flag("--timeout", flags.timeout, ZeroDuration::kRefused);
  } else if (!p.timeout && (provider::traits_of(p.type, p.model).reasoning || !p.reasoning_effort.empty())) {
    p.timeout = std::chrono::milliseconds(provider::kReasoningTimeoutMs);
  } else if (!p.timeout) {
    p.timeout = judge::JudgeOptions{}.timeout;
  }
  for (auto& [name, value] : p.headers) value = expand_header_value(value, p.name, name);
}

}  // namespace

void add_engine_flags(CLI::App& command, EngineFlags& flags) {
  command.add_option("-c,--config", flags.config_path, "JSON config file (also LLMEVAL_CONFIG)");
  command.add_option("-p,--provider", flags.providers,
                     "Judge provider, repeatable (order = fallback chain): a config name, openai:MODEL[@BASE_URL], "
                     "anthropic:MODEL[@BASE_URL], or sim (offline simulated judge)");
  command.add_option("-j,--concurrency", flags.concurrency, "Judge requests in flight")
      ->default_val(64)
      ->check(CLI::Range(1, 100000));
  command.add_option("--rpm", flags.rpm, "Requests per minute per provider (0 = unlimited)")
      ->check(CLI::NonNegativeNumber);
  command.add_option("--tpm", flags.tpm, "Tokens per minute per provider (0 = unlimited)")
      ->check(CLI::NonNegativeNumber);
  command.add_option("--burst", flags.burst,
                     "How much of --rpm/--tpm may go out at once, as time of refill, e.g. 200ms (default 1s; "
                     "lower it for a provider that enforces its limit over short intervals)");
  command.add_option("--redis", flags.redis_url,
                     "Share rate limits and breaker probes with other processes through this Redis: "
                     "redis://[:password@]host:port/db (also LLMEVAL_REDIS_URL)");
  command.add_option("--timeout", flags.timeout, "One attempt's deadline, e.g. 5s or 800ms (default 5s)");
  command.add_option("--retries", flags.retries, "Retries per provider before falling back (default 3)")
      ->check(CLI::Range(0, 100));
  command.add_flag("--no-cache", flags.no_cache,
                   "Neither read nor write the judge cache (also LLMEVAL_CACHE=off): every judge call is made");
  command.add_option("--cache-mode", flags.cache_mode,
                     "What to do with the judge cache: readwrite (default), read (reuse, store nothing new), "
                     "write (call every judge, store the verdicts), off (also LLMEVAL_CACHE)")
      ->check(CLI::IsMember({"off", "read", "write", "readwrite"}));
  command.add_option("--jury", flags.jury,
                     "Make the providers (-p) a jury instead of a fallback chain: each judges every LLM criterion "
                     "and the score is their mean, median, or majority pass/fail vote (config judge.jury)")
      ->check(CLI::IsMember({"mean", "median", "majority"}));
  command.add_option("--jury-quorum", flags.jury_quorum,
                     "With --jury: jurors that must answer, else the row is an error (no_quorum); default: a "
                     "majority of them")
      ->check(CLI::Range(1, 1000));
  command.add_flag("-q,--quiet", flags.quiet, "Only errors on stderr (run: no summary table either)");
  command.add_flag("-v,--verbose", flags.verbose,
                   "More logging: -v debug; in run, -vv trace, which includes request bodies");
  command.add_option("--log-format", flags.log_format, "Log format: text or json")
      ->check(CLI::IsMember({"text", "json"}));
}

spdlog::level::level_enum log_level(const EngineFlags& flags, spdlog::level::level_enum default_level,
                                    int max_verbosity) {
  if (flags.quiet) return spdlog::level::err;
  int verbose = std::min(flags.verbose, max_verbosity);
  if (verbose >= 2) return spdlog::level::trace;
  if (verbose == 1) return spdlog::level::debug;
  return default_level;
}

std::map<std::string, provider::Price> EngineSettings::prices() const {
  std::map<std::string, provider::Price> prices;
  for (const auto& p : providers) {
    if (p.price) prices[p.name] = *p.price;
  }
  return prices;
}

CacheSettings cache_settings(const EngineFlags& flags, const config::Config& config, const std::string& redis_url) {
  CacheSettings settings;
  std::string mode = flags.cache_mode;
  const char* env = std::getenv("LLMEVAL_CACHE");
  if (mode.empty() && env != nullptr && *env != '\0') {
    mode = env;
    if (mode == "on") mode = "readwrite";
    if (!cache::parse_cache_mode(mode)) {
      throw FatalError("LLMEVAL_CACHE=" + mode + ": must be off, on, read, write or readwrite", 2);
    }
  }
  if (flags.no_cache) mode = "off";
  if (!mode.empty()) settings.mode = *cache::parse_cache_mode(mode);
  settings.local.path = config.cache.path.empty() ? cache::default_cache_path() : config.cache.path;
  settings.local.max_bytes = config.cache.max_mb * 1024 * 1024;
  settings.local.ttl = config.cache.ttl;
  settings.redis_url = config.cache.url.empty() ? redis_url : config.cache.url;
  settings.redis_prefix = config.redis.prefix;
  return settings;
}

EngineSettings resolve_engine_settings(const EngineFlags& flags) {
  EngineSettings settings;
  std::string config_path = flags.config_path;
  if (config_path.empty()) {
    if (const char* env = std::getenv("LLMEVAL_CONFIG"); env != nullptr) config_path = env;
  }
  if (!config_path.empty()) settings.config = or_exit(config::load_config_file(config_path));
  const config::Config& config = settings.config;

  settings.providers = resolve_providers(flags, config);
  for (auto& p : settings.providers) {
    if (flags.rpm) p.rpm = *flags.rpm;
    if (flags.tpm) p.tpm = *flags.tpm;
    if (!flags.burst.empty()) p.burst = duration_flag("--burst", flags.burst, ZeroDuration::kRefused);
    resolve_provider_settings(p, flags, config);
    resolve_api_key(p);
    provider::apply_table_price(p);
  }
  settings.evaluator = evaluator_options(flags, config, settings.providers);
  settings.redis_url = redis_url_of(flags, config);
  settings.cache = cache_settings(flags, config, settings.redis_url);

  settings.reader.default_scale = config.judge.scale;
  settings.reader.default_criteria = config.criteria;
  return settings;
}

std::string process_id() {
  char host[HOST_NAME_MAX + 1] = {};
  ::gethostname(host, sizeof host - 1);
  std::random_device random;
  char suffix[9];
  std::snprintf(suffix, sizeof suffix, "%08x", random());
  return std::string(host) + ":" + std::to_string(::getpid()) + ":" + suffix;
}

struct Engine::Parts {
  std::unique_ptr<provider::HttpClient> http;
  std::unique_ptr<redis::RedisClient> redis;
  std::unique_ptr<resilience::LocalRateLimiter> own_limiter;
  std::unique_ptr<resilience::RedisRateLimiter> redis_limiter;
  std::unique_ptr<resilience::RedisProbeLease> probe_lease;
  std::unique_ptr<provider::AdaptationStore> adaptations;  // with Redis: shared param adaptations
  resilience::RateLimiter* limiter = nullptr;
  std::vector<std::unique_ptr<provider::Provider>> providers;
  std::vector<std::unique_ptr<resilience::CircuitBreaker>> breakers;
  std::vector<std::unique_ptr<resilience::RetryBudget>> retry_budgets;
  std::vector<runner::ProviderSlot> chain;
  std::unique_ptr<cache::LocalJudgeCache> local_cache;
  std::unique_ptr<redis::RedisClient> cache_redis;  // the shared cache's own connection
  std::unique_ptr<cache::SharedJudgeCache> shared_cache;
  cache::JudgeCache* cache = nullptr;
};

// The shared judge cache's Redis deadline, unless redis.timeout_ms is longer.
constexpr std::chrono::milliseconds kCacheRedisTimeout{250};

// The judge cache on this machine, then Redis in front of it when the settings name one. A cache
// that cannot open is a warning, never a reason not to run.
void Engine::open_cache(LibeventLoop& loop, const EngineSettings& settings) {
  Parts& p = *parts_;
  const CacheSettings& s = settings.cache;
  if (s.mode == cache::CacheMode::kOff) return;
  auto local = cache::LocalJudgeCache::open(s.local);
  if (local.ok()) {
    p.local_cache = std::move(local).value();
    p.cache = p.local_cache.get();
  } else {
    logger("cache")->warn("{}; running without this machine's judge cache", local.error().message);
  }
  if (s.redis_url.empty()) return;
  // A connection of its own: verdicts (hundreds of bytes each) must not queue in front of the
  // limiter's decisions, and a lookup may wait longer than a limiter decision (a miss costs a
  // judge call; a slow decision holds every call back).
  auto url = redis::parse_redis_url(s.redis_url);
  if (!url) throw FatalError((settings.config.cache.url.empty() ? "--redis: " : "cache.url: ") + url.error().message, 2);
  redis::RedisClientOptions client_options;
  client_options.command_timeout = std::max(settings.config.redis.timeout, kCacheRedisTimeout);
  p.cache_redis = std::make_unique<redis::RedisClient>(loop, url.value(), client_options);
  p.shared_cache =
      std::make_unique<cache::SharedJudgeCache>(*p.cache_redis, s.redis_prefix, s.local.ttl, p.local_cache.get());
  p.cache = p.shared_cache.get();
}

Engine::Engine(LibeventLoop& loop, Clock& clock, const EngineSettings& settings, metrics::EngineMetrics& metrics,
               const std::string& process_id, resilience::RateLimiter* local_limiter)
    : parts_(std::make_unique<Parts>()) {
  Parts& p = *parts_;
  provider::CurlHttpClientOptions http_options;
  http_options.max_connections = settings.evaluator.concurrency;
  p.http = provider::make_curl_http_client(loop, http_options);

  const config::Config& config = settings.config;
  if (!settings.redis_url.empty()) {
    auto url = redis::parse_redis_url(settings.redis_url);
    if (!url) throw FatalError("--redis: " + url.error().message);
    redis::RedisClientOptions client_options;
    client_options.command_timeout = config.redis.timeout;
    p.redis = std::make_unique<redis::RedisClient>(loop, url.value(), client_options);
    resilience::RedisLimiterOptions options;
    options.prefix = config.redis.prefix;
    options.process_id = process_id;
    options.on_degraded = [&metrics](bool degraded) { metrics.limiter_degraded.get().set(degraded ? 1 : 0); };
    p.redis_limiter = std::make_unique<resilience::RedisRateLimiter>(loop, clock, *p.redis, options);
    p.probe_lease = std::make_unique<resilience::RedisProbeLease>(*p.redis, config.redis.prefix, process_id,
                                                                  config.breaker.half_open_probes);
    p.limiter = p.redis_limiter.get();
    p.adaptations = std::make_unique<resilience::RedisAdaptationStore>(*p.redis, config.redis.prefix);
  } else if (local_limiter != nullptr) {
    p.limiter = local_limiter;
  } else {
    p.own_limiter = std::make_unique<resilience::LocalRateLimiter>(clock);
    p.limiter = p.own_limiter.get();
  }

  for (const auto& config_of : settings.providers) {
    switch (config_of.type) {
      case provider::ProviderType::kOpenAI:
        p.providers.push_back(provider::make_openai_provider(*p.http, config_of, p.adaptations.get()));
        break;
      case provider::ProviderType::kAzure:
        p.providers.push_back(provider::make_azure_provider(*p.http, config_of, p.adaptations.get()));
        break;
      case provider::ProviderType::kAnthropic:
        p.providers.push_back(provider::make_anthropic_provider(*p.http, config_of, p.adaptations.get()));
        break;
      case provider::ProviderType::kSim: p.providers.push_back(provider::make_sim_provider(loop, config_of)); break;
    }
    resilience::Limits limits{config_of.rpm, config_of.tpm, config_of.burst.value_or(resilience::kDefaultBurst)};
    if (p.redis_limiter) p.redis_limiter->set_limits(config_of.name, limits);
    if (p.own_limiter) p.own_limiter->set_limits(config_of.name, limits);
    p.breakers.push_back(std::make_unique<resilience::CircuitBreaker>(clock, config.breaker));
    p.retry_budgets.push_back(std::make_unique<resilience::RetryBudget>(clock, config.retry.budget));
    p.chain.push_back({p.providers.back().get(), config_of.name, p.breakers.back().get(),
                       p.retry_budgets.back().get(), p.probe_lease.get(), config_of.price});
  }
  open_cache(loop, settings);
}

Engine::~Engine() = default;

const std::vector<runner::ProviderSlot>& Engine::chain() const { return parts_->chain; }

resilience::RateLimiter& Engine::limiter() { return *parts_->limiter; }

cache::JudgeCache* Engine::cache() { return parts_->cache; }

void Engine::flush_cache(LibeventLoop& loop, std::chrono::milliseconds limit) {
  cache::SharedJudgeCache* shared = parts_->shared_cache.get();
  if (shared == nullptr || shared->pending_writes() == 0) return;
  bool flushed = false;
  TimerId timer = loop.add_timer(limit, [&loop] { loop.stop(); });
  shared->when_flushed([&] {
    flushed = true;
    loop.stop();
  });
  loop.run();
  loop.cancel_timer(timer);
  if (!flushed) {
    logger("cache")->warn("{} verdicts did not reach the shared judge cache in Redis within {} ms",
                          shared->pending_writes(), limit.count());
  }
}

}  // namespace llmeval::cli
