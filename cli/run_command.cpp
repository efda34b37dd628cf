#include "cli/run_command.h"

#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "core/common/clock.h"
#include "core/common/duration.h"
#include "core/common/error.h"
#include "core/common/event_loop.h"
#include "core/common/logging.h"
#include "core/config/config.h"
#include "core/dataset/jsonl_reader.h"
#include "core/metrics/engine_metrics.h"
#include "core/metrics/metrics_file.h"
#include "core/metrics/registry.h"
#include "core/output/result_writer.h"
#include "core/output/resume_index.h"
#include "core/output/summary.h"
#include "core/provider/anthropic_provider.h"
#include "core/provider/curl_http_client.h"
#include "core/provider/openai_provider.h"
#include "core/provider/sim_provider.h"
#include "core/resilience/circuit_breaker.h"
#include "core/redis/redis_client.h"
#include "core/redis/redis_url.h"
#include "core/resilience/local_rate_limiter.h"
#include "core/resilience/redis_probe_lease.h"
#include "core/resilience/redis_rate_limiter.h"
#include "core/runner/runner.h"

namespace llmeval::cli {
namespace {

struct RunFlags {
  std::string dataset;
  std::string output = "-";
  std::string config_path;
  std::vector<std::string> providers;
  int concurrency = 64;
  std::optional<std::int64_t> rpm;
  std::optional<std::int64_t> tpm;
  std::string redis_url;
  std::string timeout;
  std::optional<int> retries;
  std::string summary_path;
  std::string metrics_path;
  std::optional<double> fail_under;
  std::int64_t limit = -1;
  bool resume = false;
  bool retry_errors = false;
  std::string grace = "5s";
  std::size_t max_line_bytes = 16 * 1024 * 1024;
  bool quiet = false;
  int verbose = 0;
  std::string log_format = "text";
};

const char* kDefaultOpenAiModel = "gpt-4o-mini";

std::vector<provider::ProviderConfig> resolve_providers(const RunFlags& flags, const config::Config& config) {
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
  if (p.base_url == defaults.base_url) {
    throw FatalError("provider \"" + p.name + "\" needs an API key: set " + p.api_key_env +
                     " in the environment (or use --provider sim for an offline dry run)");
  }
  logger("cli")->info("[provider={}] {} is not set; calling {} without an API key", p.name, p.api_key_env,
                      p.base_url);
}

std::FILE* open_dataset(const std::string& path) {
  if (path == "-") return stdin;
  struct stat info {};
  if (::stat(path.c_str(), &info) != 0) {
    throw FatalError("cannot read dataset " + path + ": " + std::strerror(errno));
  }
  if (S_ISDIR(info.st_mode)) throw FatalError("dataset " + path + " is a directory; pass a .jsonl file");
  std::FILE* file = std::fopen(path.c_str(), "rb");
  if (file == nullptr) throw FatalError("cannot read dataset " + path + ": " + std::strerror(errno));
  return file;
}

// Puts stdin in non-blocking mode while the run reads it, when it is a pipe or a socket, so
// waiting for a slow producer never stalls the event loop (the reader then reports
// would_block and the runner waits for readability). Restores the original flags on exit:
// the descriptor is shared with the parent process.
class NonBlockingStdin {
 public:
  explicit NonBlockingStdin(std::FILE* file) {
    if (file != stdin) return;
    struct stat info {};
    // Only pipes and sockets: a terminal left non-blocking by a killed process would upset the
    // shell, and regular files never block.
    if (::fstat(STDIN_FILENO, &info) != 0 || !(S_ISFIFO(info.st_mode) || S_ISSOCK(info.st_mode))) return;
    flags_ = ::fcntl(STDIN_FILENO, F_GETFL);
    if (flags_ >= 0 && !(flags_ & O_NONBLOCK)) {
      ::fcntl(STDIN_FILENO, F_SETFL, flags_ | O_NONBLOCK);
      changed_ = true;
    }
  }
  ~NonBlockingStdin() {
    if (changed_) ::fcntl(STDIN_FILENO, F_SETFL, flags_);
  }
  NonBlockingStdin(const NonBlockingStdin&) = delete;
  NonBlockingStdin& operator=(const NonBlockingStdin&) = delete;

 private:
  int flags_ = -1;
  bool changed_ = false;
};

// Names this process in Redis (heartbeats, probe leases): unique across pods and restarts.
std::string process_id() {
  char host[HOST_NAME_MAX + 1] = {};
  ::gethostname(host, sizeof host - 1);
  std::random_device random;
  char suffix[9];
  std::snprintf(suffix, sizeof suffix, "%08x", random());
  return std::string(host) + ":" + std::to_string(::getpid()) + ":" + suffix;
}

// The rate limiter and probe lease: shared through Redis when a URL is given (flag, then
// LLMEVAL_REDIS_URL, then the config), else in this process only.
struct SharedState {
  std::unique_ptr<redis::RedisClient> redis;
  std::unique_ptr<resilience::LocalRateLimiter> local_limiter;
  std::unique_ptr<resilience::RedisRateLimiter> redis_limiter;
  std::unique_ptr<resilience::RedisProbeLease> probe_lease;

  resilience::RateLimiter& limiter() {
    if (redis_limiter) return *redis_limiter;
    return *local_limiter;
  }
  void set_limits(const std::string& key, resilience::Limits limits) {
    if (redis_limiter) redis_limiter->set_limits(key, limits);
    if (local_limiter) local_limiter->set_limits(key, limits);
  }
};

std::string redis_url_of(const RunFlags& flags, const config::Config& config) {
  if (!flags.redis_url.empty()) return flags.redis_url;
  if (const char* env = std::getenv("LLMEVAL_REDIS_URL"); env != nullptr && *env != '\0') return env;
  return config.redis.url;
}

SharedState make_shared_state(const std::string& redis_url, const config::Config& config, LibeventLoop& loop,
                              Clock& clock, metrics::EngineMetrics& engine_metrics) {
  SharedState state;
  if (redis_url.empty()) {
    state.local_limiter = std::make_unique<resilience::LocalRateLimiter>(clock);
    return state;
  }
  auto url = redis::parse_redis_url(redis_url);
  if (!url) throw FatalError("--redis: " + url.error().message);
  redis::RedisClientOptions client_options;
  client_options.command_timeout = config.redis.timeout;
  state.redis = std::make_unique<redis::RedisClient>(loop, url.value(), client_options);
  std::string id = process_id();
  resilience::RedisLimiterOptions options;
  options.prefix = config.redis.prefix;
  options.process_id = id;
  options.on_degraded = [&engine_metrics](bool degraded) { engine_metrics.limiter_degraded.get().set(degraded ? 1 : 0); };
  state.redis_limiter = std::make_unique<resilience::RedisRateLimiter>(loop, clock, *state.redis, options);
  state.probe_lease = std::make_unique<resilience::RedisProbeLease>(*state.redis, config.redis.prefix, id,
                                                                    config.breaker.half_open_probes);
  logger("cli")->info("sharing rate limits and breaker probes through {}", url.value().to_display());
  return state;
}

// --metrics-file: the registry in Prometheus text format, rewritten every few seconds while
// the run goes and once at the end (for node_exporter's textfile collector, or a CI artifact).
class MetricsFileWriter {
 public:
  MetricsFileWriter(EventLoop& loop, const metrics::Registry& registry, std::string path)
      : loop_(loop), registry_(registry), path_(std::move(path)) {
    if (!path_.empty()) schedule();
  }
  ~MetricsFileWriter() { loop_.cancel_timer(timer_); }
  MetricsFileWriter(const MetricsFileWriter&) = delete;
  MetricsFileWriter& operator=(const MetricsFileWriter&) = delete;

  void write() {
    if (path_.empty()) return;
    try {
      metrics::write_metrics_file(path_, registry_.render());
    } catch (const std::exception& e) {
      logger("cli")->warn("--metrics-file: {}", e.what());
    }
  }

 private:
  void schedule() {
    timer_ = loop_.add_timer(std::chrono::seconds(5), [this] {
      write();
      schedule();
    });
  }
  EventLoop& loop_;
  const metrics::Registry& registry_;
  std::string path_;
  TimerId timer_ = 0;
};

// --resume: what the results file already holds (its rows go into the summary), after
// repairing a torn last line. A missing or empty file starts fresh, so manifests can always
// pass --resume.
std::optional<output::ResumeIndex> load_resume_index(const RunFlags& flags, output::Summary& summary) {
  if (flags.retry_errors && !flags.resume) throw FatalError("--retry-errors only works with --resume");
  if (!flags.resume) return std::nullopt;
  if (flags.output.empty() || flags.output == "-") {
    throw FatalError("--resume needs the results in a file: pass -o PATH (the same as the interrupted run)");
  }
  auto index = output::ResumeIndex::load(flags.output, flags.retry_errors,
                                         [&](const output::ResultRecord& record) { summary.add(record); });
  auto log = logger("cli");
  if (index.torn_line_dropped()) log->warn("{}: dropped a torn last line (its row runs again)", flags.output);
  if (index.size() > 0 || index.errors_dropped() > 0) {
    log->info("resuming {}: {} rows already recorded, {} error rows to run again", flags.output, index.size(),
              index.errors_dropped());
  }
  return index;
}

spdlog::level::level_enum log_level(const RunFlags& flags) {
  if (flags.quiet) return spdlog::level::err;
  if (flags.verbose >= 2) return spdlog::level::trace;
  if (flags.verbose == 1) return spdlog::level::debug;
  return spdlog::level::warn;
}

int execute(const RunFlags& flags) {
  setup_logging(log_level(flags), flags.log_format == "json" ? LogFormat::kJson : LogFormat::kText);

  config::Config config;
  std::string config_path = flags.config_path;
  if (config_path.empty()) {
    if (const char* env = std::getenv("LLMEVAL_CONFIG"); env != nullptr) config_path = env;
  }
  if (!config_path.empty()) config = config::load_config_file(config_path);

  std::vector<provider::ProviderConfig> provider_configs = resolve_providers(flags, config);
  for (auto& p : provider_configs) {
    if (flags.rpm) p.rpm = *flags.rpm;
    if (flags.tpm) p.tpm = *flags.tpm;
    resolve_api_key(p);
  }

  runner::RunnerOptions options;
  options.concurrency = flags.concurrency;
  options.limit = flags.limit;
  options.same_model_only = config.judge.same_model_only;
  options.judge.temperature = config.judge.temperature;
  options.judge.max_tokens = config.judge.max_tokens;
  options.max_attempts = flags.retries ? *flags.retries + 1 : config.retry.max_attempts;
  options.retry_base = config.retry.base;
  options.retry_max = config.retry.max;
  options.row_deadline = config.retry.row_deadline;
  if (!flags.timeout.empty()) {
    auto timeout = parse_duration(flags.timeout);
    if (!timeout || timeout->count() == 0) {
      throw FatalError("--timeout " + flags.timeout + ": expected a duration like 5s or 800ms");
    }
    options.judge.timeout = *timeout;
  } else if (provider_configs.front().timeout) {
    options.judge.timeout = *provider_configs.front().timeout;
  }

  auto grace = parse_duration(flags.grace);
  if (!grace) throw FatalError("--grace " + flags.grace + ": expected a duration like 5s or 800ms");

  dataset::ReaderOptions reader_options;
  reader_options.max_line_bytes = flags.max_line_bytes;
  reader_options.default_scale = config.judge.scale;
  reader_options.default_criteria = config.criteria;

  std::FILE* dataset_file = open_dataset(flags.dataset);
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> dataset_owner(dataset_file == stdin ? nullptr : dataset_file,
                                                                  &std::fclose);
  static char read_buffer[1 << 16];
  std::setvbuf(dataset_file, read_buffer, _IOFBF, sizeof read_buffer);
  NonBlockingStdin nonblocking_stdin(dataset_file);
  dataset::JsonlReader reader(dataset_file, reader_options);
  output::Summary summary;
  std::optional<output::ResumeIndex> resume = load_resume_index(flags, summary);
  output::ResultWriter writer(flags.output, flags.resume);
  options.resume = resume ? &*resume : nullptr;

  SystemClock clock;
  LibeventLoop loop;
  provider::CurlHttpClientOptions http_options;
  http_options.max_connections = flags.concurrency;
  auto http = provider::make_curl_http_client(loop, http_options);
  metrics::Registry registry;
  metrics::EngineMetrics engine_metrics(registry);
  options.metrics = &engine_metrics;
  SharedState shared = make_shared_state(redis_url_of(flags, config), config, loop, clock, engine_metrics);
  MetricsFileWriter metrics_file(loop, registry, flags.metrics_path);

  resilience::BreakerOptions breaker_options;
  breaker_options.failure_rate = config.breaker.failure_rate;
  breaker_options.min_calls = config.breaker.min_calls;
  breaker_options.window = config.breaker.window;
  breaker_options.consecutive_failures = config.breaker.consecutive_failures;
  breaker_options.open_for = config.breaker.open;
  breaker_options.half_open_probes = config.breaker.half_open_probes;

  std::vector<std::unique_ptr<provider::Provider>> providers;
  std::vector<std::unique_ptr<resilience::CircuitBreaker>> breakers;
  std::vector<std::unique_ptr<resilience::RetryBudget>> retry_budgets;
  resilience::RetryBudgetOptions budget_options;
  budget_options.ratio = config.retry.budget_ratio;
  budget_options.min_retries = config.retry.budget_min;
  std::vector<runner::ProviderSlot> chain;
  std::map<std::string, provider::Price> prices;
  for (const auto& p : provider_configs) {
    switch (p.type) {
      case provider::ProviderType::kOpenAI: providers.push_back(provider::make_openai_provider(*http, p)); break;
      case provider::ProviderType::kAnthropic: providers.push_back(provider::make_anthropic_provider(*http, p)); break;
      case provider::ProviderType::kSim: providers.push_back(provider::make_sim_provider(loop, p)); break;
    }
    shared.set_limits(p.name, {p.rpm, p.tpm});
    if (p.price) prices[p.name] = *p.price;
    breakers.push_back(std::make_unique<resilience::CircuitBreaker>(clock, breaker_options));
    retry_budgets.push_back(std::make_unique<resilience::RetryBudget>(clock, budget_options));
    chain.push_back({providers.back().get(), p.name, breakers.back().get(), retry_budgets.back().get(),
                     shared.probe_lease.get()});
  }

  summary.set_prices(prices);
  auto started = clock.now();
  runner::Runner run(loop, clock, reader, chain, shared.limiter(),
                     [&](const output::ResultRecord& record) {
                       writer.write(record);
                       summary.add(record);
                     },
                     options);
  // First SIGINT/SIGTERM: finish what is in flight, record it, exit 130. Second: exit now;
  // every line already written is whole (one write each), so the file stays resumable.
  int signals_seen = 0;
  auto on_signal = [&] {
    if (++signals_seen > 1) ::_exit(130);
    logger("cli")->warn("interrupted: finishing requests in flight (up to {}); interrupt again to stop at once",
                        flags.grace);
    run.interrupt(*grace);
  };
  loop.on_signal(SIGINT, on_signal);
  loop.on_signal(SIGTERM, on_signal);
  runner::RunOutcome outcome = run.run();
  metrics_file.write();
  double wall = std::chrono::duration<double>(clock.now() - started).count();

  if (!flags.quiet) std::fputs(summary.to_table(outcome.counters, wall).c_str(), stderr);
  if (!flags.summary_path.empty()) {
    std::ofstream out(flags.summary_path);
    out << summary.to_json(outcome.counters, wall).dump(2) << '\n';
    if (!out) throw FatalError("cannot write summary to " + flags.summary_path, 1);
  }

  if (!outcome.resume_mismatch.empty()) {
    throw FatalError("cannot --resume into " + flags.output + ": " + outcome.resume_mismatch +
                     "; write to a new --output, or delete this file to start over");
  }
  if (outcome.interrupted) {
    logger("cli")->error("interrupted after recording {} rows; run the same command with --resume to finish",
                         summary.rows());
    return 130;
  }
  if (resume && flags.limit < 0 && resume->max_line() > outcome.rows_read) {
    throw FatalError("cannot --resume into " + flags.output + ": it holds a result for line " +
                     std::to_string(resume->max_line()) + " but the dataset has only " +
                     std::to_string(outcome.rows_read) + " lines: it belongs to a different dataset");
  }
  if (outcome.auth_failed) {
    logger("cli")->error("stopped early: {}", outcome.auth_message);
    return 2;
  }
  if (summary.errors() > 0 || summary.invalid() > 0) return 1;
  if (flags.fail_under) {
    auto rate = summary.pass_rate();
    if (!rate || *rate < *flags.fail_under) {
      logger("cli")->error("pass rate {} is below --fail-under {}", rate ? std::to_string(*rate) : "n/a",
                           *flags.fail_under);
      return 1;
    }
  }
  return 0;
}

}  // namespace

std::function<int()> register_run_command(CLI::App& app) {
  auto flags = std::make_shared<RunFlags>();
  CLI::App* run = app.add_subcommand("run", "Judge every row of a JSONL dataset and write one result line per input line");
  run->add_option("dataset", flags->dataset, "JSONL dataset, one row per line (- reads stdin)")->required();
  run->add_option("-o,--output", flags->output, "Results JSONL file (default: stdout)");
  run->add_option("-c,--config", flags->config_path, "JSON config file (also LLMEVAL_CONFIG)");
  run->add_option("-p,--provider", flags->providers,
                  "Judge provider, repeatable (order = fallback chain): a config name, openai:MODEL[@BASE_URL], "
                  "anthropic:MODEL[@BASE_URL], or sim (offline simulated judge)");
  run->add_option("-j,--concurrency", flags->concurrency, "Judge requests in flight")
      ->default_val(64)
      ->check(CLI::Range(1, 100000));
  run->add_option("--rpm", flags->rpm, "Requests per minute per provider (0 = unlimited)")->check(CLI::NonNegativeNumber);
  run->add_option("--tpm", flags->tpm, "Tokens per minute per provider (0 = unlimited)")->check(CLI::NonNegativeNumber);
  run->add_option("--redis", flags->redis_url,
                  "Share rate limits and breaker probes with other processes through this Redis: "
                  "redis://[:password@]host:port/db (also LLMEVAL_REDIS_URL)");
  run->add_option("--timeout", flags->timeout, "One attempt's deadline, e.g. 5s or 800ms (default 5s)");
  run->add_option("--retries", flags->retries, "Retries per provider before falling back (default 3)")
      ->check(CLI::Range(0, 100));
  run->add_option("--summary", flags->summary_path, "Write the summary as JSON to this file");
  run->add_option("--metrics-file", flags->metrics_path,
                  "Write Prometheus metrics (text format) to this file every 5 s and at the end");
  run->add_option("--fail-under", flags->fail_under, "Exit 1 when the pass rate is below X (0..1)")
      ->check(CLI::Range(0.0, 1.0));
  run->add_flag("--resume", flags->resume,
               "Skip rows already recorded in --output and append the rest (a missing or empty file starts fresh)");
  run->add_flag("--retry-errors", flags->retry_errors, "With --resume: run rows recorded as error again");
  run->add_option("--grace", flags->grace,
                  "On SIGINT/SIGTERM, how long requests in flight may take to finish (default 5s)");
  run->add_option("--limit", flags->limit, "Process only the first N rows")->check(CLI::NonNegativeNumber);
  run->add_option("--max-line-bytes", flags->max_line_bytes,
                  "Longest dataset line accepted; longer lines become line_too_long rows (default 16 MiB)");
  run->add_flag("-q,--quiet", flags->quiet, "Only errors on stderr; no summary table");
  run->add_flag("-v,--verbose", flags->verbose, "More logging (-vv: trace, includes request bodies)");
  run->add_option("--log-format", flags->log_format, "Log format: text or json")
      ->check(CLI::IsMember({"text", "json"}));
  return [run, flags]() -> int {
    if (!run->parsed()) return -1;
    return execute(*flags);
  };
}

}  // namespace llmeval::cli
