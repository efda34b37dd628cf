#include "core/server/evaluation_service.h"

#include <string>
#include <utility>
#include <vector>

#include "core/common/logging.h"
#include "core/output/result_record.h"
#include "core/output/summary.h"
#include "core/server/evaluate_request.h"

namespace llmeval::server {
namespace {

using std::chrono::milliseconds;

const HeaderList kRetrySoon = {{"Retry-After", "1"}};

// One evaluation request: its rows' results by position, until every row has one.
struct PendingEvaluation {
  std::shared_ptr<HttpExchange> exchange;
  bool batch = false;
  std::vector<output::ResultRecord> results;
  std::size_t remaining = 0;
  TimerId deadline = 0;
  bool answered = false;
  std::vector<runner::RowId> rows;  // being judged, for a cancel when the client hangs up
};

output::ResultRecord invalid_record(const dataset::InvalidLine& invalid) {
  output::ResultRecord record;
  record.id = invalid.id;
  record.line = invalid.line;
  record.status = output::Status::kInvalid;
  record.error = output::ResultError{invalid.kind, invalid.message};
  return record;
}

}  // namespace

struct EvaluationService::Impl {
  EventLoop& loop;
  Clock& clock;
  runner::Evaluator& evaluator;
  ServiceState& state;
  std::size_t open = 0;
  std::function<void()> idle_fn;
  std::shared_ptr<spdlog::logger> log = logger("server");

  Impl(EventLoop& l, Clock& c, runner::Evaluator& e, ServiceState& s) : loop(l), clock(c), evaluator(e), state(s) {}

  void handle(std::shared_ptr<HttpExchange> exchange) {
    const std::string& path = exchange->path();
    const std::string& method = exchange->method();
    bool read_only = method == "GET" || method == "HEAD";
    if (path == "/v1/evaluate") {
      if (method != "POST") return exchange->respond_error(405, "method_not_allowed", "use POST", {{"Allow", "POST"}});
      return evaluate(std::move(exchange));
    }
    bool known = path == "/healthz" || path == "/readyz" || path == "/metrics";
    if (!known) {
      return exchange->respond_error(404, "not_found", "no such endpoint: " + path +
                                                           " (the API is POST /v1/evaluate, GET /healthz, /readyz, /metrics)");
    }
    if (!read_only) return exchange->respond_error(405, "method_not_allowed", "use GET", {{"Allow", "GET, HEAD"}});
    if (path == "/healthz") return exchange->respond(200, "application/json", "{\"status\":\"ok\"}\n");
    if (path == "/readyz") return readyz(*exchange);
    exchange->respond(200, "text/plain; version=0.0.4; charset=utf-8", state.registry.render());
  }

  void readyz(HttpExchange& exchange) {
    if (state.draining) return exchange.respond(503, "application/json", "{\"status\":\"draining\"}\n", kRetrySoon);
    if (!state.ready) return exchange.respond(503, "application/json", "{\"status\":\"starting\"}\n", kRetrySoon);
    exchange.respond(200, "application/json", "{\"status\":\"ready\"}\n");
  }

  void evaluate(std::shared_ptr<HttpExchange> exchange) {
    if (!state.auth.allows(exchange->header("Authorization"))) {
      return exchange->respond_error(401, "unauthorized", "send Authorization: Bearer <token> with a valid API token",
                                     {{"WWW-Authenticate", "Bearer realm=\"llmeval\""}});
    }
    if (state.draining) {
      return exchange->respond_error(503, "draining", "this instance is shutting down; send the request to another",
                                     kRetrySoon);
    }
    EvaluateRequest request =
        parse_evaluate_request(exchange->body(), state.reader_options, static_cast<std::size_t>(state.max_queue));
    if (request.error) return exchange->respond_error(request.error->status, request.error->kind, request.error->message);
    std::int64_t to_judge = 0;
    for (const auto& row : request.rows) to_judge += std::holds_alternative<dataset::EvalItem>(row) ? 1 : 0;
    if (!state.reserve_rows(to_judge)) {
      state.http_metrics.rows_shed(to_judge);
      return exchange->respond_error(503, "overloaded",
                                     "the evaluation queue is full (" + std::to_string(state.max_queue) +
                                         " rows, --max-queue); retry shortly",
                                     kRetrySoon);
    }
    start(std::move(exchange), std::move(request));
  }

  void start(std::shared_ptr<HttpExchange> exchange, EvaluateRequest request) {
    ++open;
    state.http_metrics.evaluation_started();
    auto pending = std::make_shared<PendingEvaluation>();
    pending->exchange = std::move(exchange);
    pending->batch = request.batch;
    pending->results.resize(request.rows.size());
    pending->remaining = request.rows.size();
    std::weak_ptr<PendingEvaluation> weak = pending;
    pending->deadline = loop.add_timer(state.request_timeout, [this, weak] {
      if (auto timed_out = weak.lock()) time_out(*timed_out);
    });
    // A client that hangs up wants no answer: calls not yet sent for its rows never are.
    pending->exchange->on_gone([this, weak] {
      auto gone = weak.lock();
      if (gone == nullptr) return;
      for (runner::RowId row : gone->rows) evaluator.cancel(row);
    });
    for (std::size_t i = 0; i < request.rows.size(); ++i) {
      if (auto* invalid = std::get_if<dataset::InvalidLine>(&request.rows[i])) {
        pending->results[i] = invalid_record(*invalid);
        evaluator.count_invalid();
        --pending->remaining;
        continue;
      }
      auto& item = std::get<dataset::EvalItem>(request.rows[i]);
      runner::RowId row = evaluator.evaluate(std::move(item), [this, pending, i](output::ResultRecord record) {
        state.release_rows(1);
        pending->results[i] = std::move(record);
        if (--pending->remaining == 0) finish(*pending);
      });
      pending->rows.push_back(row);
    }
    if (pending->remaining == 0) finish(*pending);
  }

  void finish(PendingEvaluation& pending) {
    if (pending.answered) return;
    loop.cancel_timer(pending.deadline);
    int status = 200;
    std::string body;
    if (!pending.batch) {
      output::append_json(body, pending.results.front());
      if (pending.results.front().status == output::Status::kError) status = 502;
    } else {
      body = batch_body(pending.results, pending.exchange->read_at());
    }
    body += '\n';
    pending.exchange->respond(status, "application/json", body);
    close(pending);
  }

  std::string batch_body(const std::vector<output::ResultRecord>& results, Clock::TimePoint read_at) const {
    output::Summary summary;
    summary.set_prices(state.prices);
    std::string body = "{\"results\":[";
    for (std::size_t i = 0; i < results.size(); ++i) {
      if (i > 0) body += ',';
      output::append_json(body, results[i]);
      summary.add(results[i]);
    }
    double wall = std::chrono::duration<double>(clock.now() - read_at).count();
    body += "],\"summary\":";
    // The process-wide counters (rate-limit waits, breaker openings) mix every request's: those
    // are in /metrics only.
    body += summary.to_json(summary.counters_from_rows(), wall).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    body += '}';
    return body;
  }

  void time_out(PendingEvaluation& pending) {
    if (pending.answered) return;
    std::size_t done = pending.results.size() - pending.remaining;
    pending.exchange->respond_error(
        504, "timeout",
        "not finished within the request timeout of " + std::to_string(state.request_timeout.count()) + "ms (" +
            std::to_string(done) + " of " + std::to_string(pending.results.size()) + " rows done)");
    close(pending);
  }

  // The request is answered; its rows may still be judged (after a timeout).
  void close(PendingEvaluation& pending) {
    pending.answered = true;
    pending.exchange.reset();
    --open;
    state.http_metrics.evaluation_finished();
    if (open == 0 && idle_fn) loop.post(std::exchange(idle_fn, nullptr));
  }

  void answered(const HttpExchange& exchange, int status) {
    double seconds = std::chrono::duration<double>(clock.now() - exchange.read_at()).count();
    state.http_metrics.answered(exchange.path(), status, seconds);
    // 503s come in floods under overload and are counted in /metrics: not worth a warning each.
    bool alarming = status == 0 || (status >= 500 && status != 503);
    auto level = alarming ? spdlog::level::warn : spdlog::level::debug;
    if (!log->should_log(level)) return;
    log->log(level, "[request_id={}] {} {} -> {} in {:.1f}ms", exchange.request_id(), exchange.method(),
             HttpMetrics::path_label(exchange.path()), status, seconds * 1000);
  }
};

EvaluationService::EvaluationService(EventLoop& loop, Clock& clock, runner::Evaluator& evaluator, ServiceState& state)
    : impl_(std::make_unique<Impl>(loop, clock, evaluator, state)) {}

EvaluationService::~EvaluationService() = default;

void EvaluationService::handle(std::shared_ptr<HttpExchange> exchange) { impl_->handle(std::move(exchange)); }

void EvaluationService::answered(const HttpExchange& exchange, int status) { impl_->answered(exchange, status); }

std::size_t EvaluationService::evaluations_open() const { return impl_->open; }

void EvaluationService::when_idle(std::function<void()> fn) {
  if (impl_->open == 0) {
    impl_->loop.post(std::move(fn));
    return;
  }
  impl_->idle_fn = std::move(fn);
}

}  // namespace llmeval::server
