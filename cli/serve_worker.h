// ServeWorker: one loop thread of `llmeval serve`: its own LibeventLoop with an Engine (HTTP
// client, providers, breakers, limiter), an Evaluator, the EvaluationService and an HttpServer
// on its own SO_REUSEPORT socket. Nothing is shared between workers but the ServiceState, the
// metrics and, without Redis, the rate limiter, so each thread runs without locks.
//
// Built on the calling thread; start() runs the loop on a new thread. A draining process keeps
// every worker serving (/readyz and refusals answer 503) until all are idle, then stops them.
// The worker must outlive its thread: join() before destroying it.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "cli/engine_setup.h"
#include "core/common/clock.h"
#include "core/server/http_server.h"
#include "core/server/service_state.h"

namespace llmeval::cli {

class ServeWorker {
 public:
  // on_stopped runs on the worker's thread when its loop has ended.
  ServeWorker(Clock& clock, const EngineSettings& settings, runner::EvaluatorOptions evaluator_options,
              server::ServiceState& state, metrics::EngineMetrics& metrics, int listen_fd,
              server::HttpServerOptions http_options, resilience::RateLimiter* shared_limiter,
              const std::string& process_id, std::function<void()> on_stopped);
  ~ServeWorker();
  ServeWorker(const ServeWorker&) = delete;
  ServeWorker& operator=(const ServeWorker&) = delete;

  void start();
  // Runs fn on the worker's thread once no evaluation request is open there (at once if none
  // is). With the ServiceState draining, no new one opens, so that stays true. Any thread.
  void when_idle(std::function<void()> fn);
  // Ends the worker's loop: connections close, rows still out are dropped. Any thread.
  void stop();
  void join();

 private:
  struct Parts;
  std::unique_ptr<Parts> parts_;
  std::thread thread_;
};

}  // namespace llmeval::cli
