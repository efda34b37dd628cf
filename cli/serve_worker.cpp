#include "cli/serve_worker.h"

#include "core/common/logging.h"
#include "core/server/evaluation_service.h"

namespace llmeval::cli {

// Declared in the order they are built; destroyed in reverse: the server first (closing its
// connections), then the evaluator (dropping rows still out), the service, the engine, the loop.
struct ServeWorker::Parts {
  LibeventLoop loop;
  std::unique_ptr<Engine> engine;
  std::unique_ptr<server::EvaluationService> service;
  std::unique_ptr<runner::Evaluator> evaluator;
  std::unique_ptr<server::HttpServer> http;
  std::function<void()> on_stopped;
};

ServeWorker::ServeWorker(Clock& clock, const EngineSettings& settings, runner::EvaluatorOptions evaluator_options,
                         server::ServiceState& state, metrics::EngineMetrics& metrics, int listen_fd,
                         server::HttpServerOptions http_options, resilience::RateLimiter* shared_limiter,
                         const std::string& process_id, std::function<void()> on_stopped)
    : parts_(std::make_unique<Parts>()) {
  Parts& p = *parts_;
  p.on_stopped = std::move(on_stopped);
  p.loop.open_cross_thread_queue();
  p.engine = std::make_unique<Engine>(p.loop, clock, settings, metrics, process_id, shared_limiter);
  evaluator_options.cache = p.engine->cache();  // this loop's connection to the judge cache
  evaluator_options.cache_mode = settings.cache.mode;
  p.evaluator = std::make_unique<runner::Evaluator>(p.loop, clock, p.engine->chain(), p.engine->limiter(),
                                                    evaluator_options);
  p.service = std::make_unique<server::EvaluationService>(p.loop, clock, *p.evaluator, state);
  server::EvaluationService* service = p.service.get();
  p.http = std::make_unique<server::HttpServer>(
      p.loop, clock, listen_fd, http_options,
      [service](std::shared_ptr<server::HttpExchange> exchange) { service->handle(std::move(exchange)); },
      [service](const server::HttpExchange& exchange, int status) { service->answered(exchange, status); });
}

ServeWorker::~ServeWorker() = default;

void ServeWorker::start() {
  thread_ = std::thread([this] {
    parts_->loop.run();
    parts_->on_stopped();
  });
}

void ServeWorker::when_idle(std::function<void()> fn) {
  Parts* p = parts_.get();
  p->loop.post_from_any_thread([p, fn = std::move(fn)]() mutable { p->service->when_idle(std::move(fn)); });
}

void ServeWorker::stop() {
  Parts* p = parts_.get();
  p->loop.post_from_any_thread([p] {
    std::size_t open = p->service->evaluations_open();
    if (open > 0) logger("server")->warn("stopping with {} requests still in flight: they get no answer", open);
    p->loop.stop();
  });
}

void ServeWorker::join() {
  if (thread_.joinable()) thread_.join();
}

}  // namespace llmeval::cli
