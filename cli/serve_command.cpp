#include "cli/serve_command.h"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <exception>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli/engine_setup.h"
#include "cli/fatal_error.h"
#include "cli/flag_values.h"
#include "cli/serve_worker.h"
#include "cli/shutdown_signals.h"
#include "core/common/error.h"
#include "core/common/logging.h"
#include "core/metrics/engine_metrics.h"
#include "core/metrics/registry.h"
#include "core/resilience/local_rate_limiter.h"
#include "core/resilience/synchronized_rate_limiter.h"
#include "core/server/bearer_auth.h"
#include "core/server/http_metrics.h"
#include "core/server/listen_address.h"
#include "core/server/service_state.h"

namespace llmeval::cli {
namespace {

struct ServeFlags {
  EngineFlags engine;
  std::string listen = "127.0.0.1:8080";
  std::string max_body = "8MiB";
  std::string tokens_file;
  bool allow_unauthenticated = false;
  int threads = 0;              // 0: one per core
  std::int64_t max_queue = 0;   // 0: 16 × -j
  std::string read_timeout = "30s";
  std::string idle_timeout = "60s";
  std::string request_timeout = "120s";
  std::string grace = "20s";
};

bool json_logs(const ServeFlags& flags) { return flags.engine.log_format == "json"; }

// One line in the shape of the JSON log format ({"ts", "level", "component", "msg"}, and any
// `extra` fields), for what serve prints outside its loggers: the listening line, and the error
// that stops it, which main() would otherwise print as plain text. Whatever the log level.
void print_json_line(std::FILE* stream, const char* level, const char* component, const std::string& message,
                     nlohmann::json extra = nlohmann::json::object()) {
  const auto now = std::chrono::system_clock::now();
  const std::time_t seconds = std::chrono::system_clock::to_time_t(now);
  const auto millis = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm utc{};
  ::gmtime_r(&seconds, &utc);
  char ts[40];
  const std::size_t length = std::strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S", &utc);
  std::snprintf(ts + length, sizeof ts - length, ".%03dZ", static_cast<int>(millis));
  nlohmann::ordered_json line = {{"ts", ts}, {"level", level}, {"component", component}, {"msg", message}};
  for (const auto& [key, value] : extra.items()) line[key] = value;
  std::fprintf(stream, "%s\n", line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
  std::fflush(stream);
}

server::BearerAuth load_tokens(const ServeFlags& flags) {
  std::vector<std::string> tokens;
  if (const char* env = std::getenv("LLMEVAL_API_TOKENS"); env != nullptr) tokens = server::parse_token_list(env);
  if (!flags.tokens_file.empty()) {
    for (auto& token : or_exit(server::read_tokens_file(flags.tokens_file))) tokens.push_back(std::move(token));
  }
  return server::BearerAuth(std::move(tokens));
}

// Without tokens, anyone who can reach the port spends the provider budget: only loopback,
// unless the operator says something in front of llmeval authenticates.
void check_exposure(const ServeFlags& flags, const server::ListenAddress& address, const server::BearerAuth& auth) {
  if (auth.enabled() || flags.allow_unauthenticated || or_exit(server::is_loopback(address))) return;
  throw FatalError("refusing to listen on " + address.to_string() +
                   " without API tokens: anyone reaching it could spend your provider budget. Set "
                   "LLMEVAL_API_TOKENS (comma-separated) or --tokens-file, or pass --allow-unauthenticated when "
                   "something in front of llmeval authenticates requests");
}

// Each client connection and each judge connection is a descriptor: thousands of slow requests
// need more than the usual soft limit of 1024, and the hard limit is ours to take.
void raise_descriptor_limit() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &limit);
  }
}

int execute(const ServeFlags& flags) {
  // -v at most: trace would log request bodies, and serve logs no payloads.
  setup_logging(log_level(flags.engine, spdlog::level::info, 1),
                flags.engine.log_format == "json" ? LogFormat::kJson : LogFormat::kText);
  auto log = logger("server");
  EngineSettings settings = resolve_engine_settings(flags.engine);

  auto address = server::parse_listen_address(flags.listen);
  if (!address) throw FatalError(address.error().message);
  server::BearerAuth auth = load_tokens(flags);
  check_exposure(flags, address.value(), auth);

  int threads = flags.threads > 0 ? flags.threads : std::max(1u, std::thread::hardware_concurrency());
  server::HttpServerOptions http_options;
  http_options.max_body = size_flag("--max-body", flags.max_body);
  http_options.read_timeout = duration_flag("--read-timeout", flags.read_timeout, ZeroDuration::kRefused);
  http_options.idle_timeout = duration_flag("--idle-timeout", flags.idle_timeout, ZeroDuration::kRefused);
  auto request_timeout = duration_flag("--request-timeout", flags.request_timeout, ZeroDuration::kRefused);
  auto grace = duration_flag("--grace", flags.grace, ZeroDuration::kAllowed);

  metrics::Registry registry;
  metrics::EngineMetrics engine_metrics(registry);
  server::HttpMetrics http_metrics(registry, engine_metrics);
  http_options.open_connections = &http_metrics.open_connections();
  server::ServiceState state(registry, http_metrics, std::move(auth));
  state.reader_options = settings.reader;
  state.prices = settings.prices();
  state.request_timeout = request_timeout;
  state.max_queue = flags.max_queue > 0 ? flags.max_queue : 16 * static_cast<std::int64_t>(flags.engine.concurrency);

  // -j is the process's total: each thread gets its share. Rows may not outlive their request
  // by much: a row deadline past the request timeout would only judge for nobody.
  runner::EvaluatorOptions evaluator_options = settings.evaluator;
  evaluator_options.concurrency = std::max(1, (flags.engine.concurrency + threads - 1) / threads);
  evaluator_options.metrics = &engine_metrics;
  evaluator_options.judge_calls_are_inflight = false;
  auto& row_deadline = evaluator_options.policy.row_deadline;
  if (row_deadline.count() == 0 || row_deadline > request_timeout) {
    row_deadline = request_timeout;
  }

  // Without Redis the threads share one in-process budget.
  SystemClock clock;
  std::unique_ptr<resilience::LocalRateLimiter> local_limiter;
  std::unique_ptr<resilience::SynchronizedRateLimiter> shared_limiter;
  if (settings.redis_url.empty()) {
    local_limiter = std::make_unique<resilience::LocalRateLimiter>(clock);
    for (const auto& p : settings.providers) {
      local_limiter->set_limits(p.name, {p.rpm, p.tpm, p.burst.value_or(resilience::kDefaultBurst)});
    }
    shared_limiter = std::make_unique<resilience::SynchronizedRateLimiter>(*local_limiter);
  }

  raise_descriptor_limit();
  server::Listeners listeners = or_exit(server::open_listeners(address.value(), threads));
  LibeventLoop control;
  control.open_cross_thread_queue();
  std::atomic<int> running{threads};
  std::string id = process_id();
  std::vector<std::unique_ptr<ServeWorker>> workers;
  for (int i = 0; i < threads; ++i) {
    runner::EvaluatorOptions options = evaluator_options;
    options.seed += static_cast<std::uint64_t>(i);
    workers.push_back(std::make_unique<ServeWorker>(
        clock, settings, options, state, engine_metrics, listeners.fds[static_cast<std::size_t>(i)], http_options,
        shared_limiter.get(), id + ":" + std::to_string(i), [&control, &running] {
          if (--running == 0) control.post_from_any_thread([&control] { control.stop(); });
        }));
  }
  for (auto& worker : workers) worker->start();
  state.ready = true;

  server::ListenAddress bound = address.value();
  bound.port = listeners.port;
  log->info("serving on http://{} with {} loop threads, {} judge calls in flight at most, {} API tokens",
            bound.to_string(), threads, flags.engine.concurrency, state.auth.size());
  // The line that tells scripts the port (docs/cli.md); in JSON it is a log line like the others,
  // so a log pipeline reading stdout and stderr together sees JSON only.
  const std::string url = "http://" + bound.to_string();
  if (json_logs(flags)) {
    print_json_line(stdout, "info", "server", "listening on " + url, {{"url", url}});
  } else {
    std::printf("listening on %s\n", url.c_str());
    std::fflush(stdout);
  }

  // First SIGTERM/SIGINT: /readyz turns 503 and new evaluations get 503 while the open ones
  // finish; once every worker is idle, or --grace has passed, exit 0. A second signal exits now.
  std::size_t idle_workers = 0;
  auto stop_workers = [&] {
    for (auto& worker : workers) worker->stop();
  };
  ShutdownSignals signals(control, [&] {
    log->info("shutting down: finishing requests in flight (up to {}); signal again to stop at once", flags.grace);
    state.draining = true;
    for (auto& worker : workers) {
      worker->when_idle([&] {
        control.post_from_any_thread([&] {
          if (++idle_workers == workers.size()) stop_workers();
        });
      });
    }
    control.add_timer(grace, [&] {
      if (idle_workers < workers.size()) log->warn("grace period of {} over", flags.grace);
      stop_workers();
    });
  });
  control.run();
  for (auto& worker : workers) worker->join();
  log->info("stopped");
  return 0;
}

}  // namespace

std::function<int()> register_serve_command(CLI::App& app) {
  auto flags = std::make_shared<ServeFlags>();
  CLI::App* serve = app.add_subcommand("serve", "Run the evaluation engine as an HTTP service (POST /v1/evaluate)");
  serve->add_option("--listen", flags->listen, "HOST:PORT to listen on (port 0 picks a free one)")
      ->default_val("127.0.0.1:8080");
  serve->add_option("--max-body", flags->max_body, "Largest request body, e.g. 8MiB; larger ones get 413")
      ->default_val("8MiB");
  serve->add_option("--tokens-file", flags->tokens_file,
                    "API tokens, one per line, for Authorization: Bearer (also LLMEVAL_API_TOKENS, comma-separated)");
  serve->add_flag("--allow-unauthenticated", flags->allow_unauthenticated,
                  "Listen on a non-loopback address without API tokens (something in front must authenticate)");
  serve->add_option("--threads", flags->threads, "Loop threads, each with its own socket (default: one per core)")
      ->check(CLI::Range(1, 256));
  serve->add_option("--max-queue", flags->max_queue,
                    "Rows accepted and not yet finished, all requests together; beyond it 503 (default 16 x -j)")
      ->check(CLI::PositiveNumber);
  serve->add_option("--read-timeout", flags->read_timeout,
                    "From a request's first byte, its headers and body must arrive within this, or the connection "
                    "is closed")
      ->default_val("30s");
  serve->add_option("--idle-timeout", flags->idle_timeout, "Close a kept-alive connection idle for this long")
      ->default_val("60s");
  serve->add_option("--request-timeout", flags->request_timeout,
                    "Answer 504 when an evaluation is not done this long after its request was read")
      ->default_val("120s");
  serve->add_option("--grace", flags->grace, "On SIGTERM, how long requests in flight may take to finish")
      ->default_val("20s");
  add_engine_flags(*serve, flags->engine);
  return [serve, flags]() -> int {
    if (!serve->parsed()) return -1;
    if (!json_logs(*flags)) return execute(*flags);
    // With JSON logs the error that stops serve is a JSON line too, with main()'s exit codes.
    try {
      return execute(*flags);
    } catch (const FatalError& e) {
      print_json_line(stderr, "error", "cli", e.what());
      return e.exit_code();
    } catch (const std::exception& e) {
      print_json_line(stderr, "error", "cli", e.what());
      return 2;
    }
  };
}

}  // namespace llmeval::cli
