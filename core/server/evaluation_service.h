// EvaluationService: the `llmeval serve` API of docs/formats.md §6 on one loop thread. It routes each
// HttpExchange (POST /v1/evaluate, GET /healthz, /readyz, /metrics), checks the bearer token,
// sheds load when the shared row queue is full (503 + Retry-After), hands rows to this
// thread's Evaluator, and answers when every row of the request has its result, or with 504 when
// the request timeout passes first (the rows still finish, and hold their queue places until
// then, since they still load the providers).
//
// Errors are JSON {"error": {"kind", "message"}}. No field of a request reaches a provider URL or
// the file system: rows are data, judged by the configured chain only.
//
// All collaborators are borrowed and must outlive the service. Loop thread only, except that
// `state` is shared with the other threads.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>

#include "core/common/clock.h"
#include "core/common/event_loop.h"
#include "core/runner/evaluator.h"
#include "core/server/http_exchange.h"
#include "core/server/service_state.h"

namespace llmeval::server {

class EvaluationService {
 public:
  EvaluationService(EventLoop& loop, Clock& clock, runner::Evaluator& evaluator, ServiceState& state);
  ~EvaluationService();
  EvaluationService(const EvaluationService&) = delete;
  EvaluationService& operator=(const EvaluationService&) = delete;

  void handle(std::shared_ptr<HttpExchange> exchange);
  // The HttpServer's observer: logs the answer and counts it.
  void answered(const HttpExchange& exchange, int status);

  // Evaluation requests read and not answered yet.
  std::size_t evaluations_open() const;
  // Runs `fn` (once) as soon as no evaluation request is open: at once if none is.
  void when_idle(std::function<void()> fn);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace llmeval::server
