// EngineMetrics: the metrics the evaluation engine (runner, providers, limiter, breaker,
// fallback) reports, declared in one place. Their names and label names are a contract with
// dashboards, alerts and the serve Deployment's HPA (which scales on llmeval_inflight_requests):
// do not rename them.
//
//   llmeval_evaluations_total{status}                        counter   status: ok|error|invalid
//   llmeval_provider_requests_total{provider,code}           counter   code: see provider_code()
//   llmeval_provider_request_duration_seconds{provider}      histogram
//   llmeval_inflight_requests                                gauge
//   llmeval_queue_depth                                      gauge
//   llmeval_breaker_state{provider}                          gauge     0 closed, 1 half-open, 2 open
//   llmeval_ratelimit_wait_seconds{provider}                 histogram
//   llmeval_tokens_total{provider,direction}                 counter   direction: input|output
//   llmeval_retries_total{provider}                          counter
//   llmeval_fallbacks_total{from,to}                         counter
//   llmeval_limiter_degraded                                 gauge     1 while Redis is unreachable
//   llmeval_cache_requests_total{result}                     counter   result: hit|miss
//   llmeval_cost_usd_total{provider}                         counter   only providers with a price
//
// Constructing it registers the families in `registry`, which must outlive it. Constructing a
// second EngineMetrics on the same registry returns the same families, so the runner and the
// server can each hold one. Thread-safety is the families' (any thread); cache the series you
// update per request: `Counter& ok = m.evaluations.with({std::string(kStatusOk)});`.
#pragma once

#include <string>
#include <string_view>

#include "core/common/error.h"
#include "core/metrics/family.h"
#include "core/metrics/registry.h"

namespace llmeval::metrics {

// Values of the `status` label of llmeval_evaluations_total.
inline constexpr std::string_view kStatusOk = "ok";
inline constexpr std::string_view kStatusError = "error";
inline constexpr std::string_view kStatusInvalid = "invalid";

// Values of the `direction` label of llmeval_tokens_total.
inline constexpr std::string_view kDirectionInput = "input";
inline constexpr std::string_view kDirectionOutput = "output";

// Values of the `result` label of llmeval_cache_requests_total.
inline constexpr std::string_view kCacheHit = "hit";
inline constexpr std::string_view kCacheMiss = "miss";

// The `code` label of llmeval_provider_requests_total. With an HTTP answer it is the status
// ("200", "429", "503"); without one it is "timeout", "connect", or "error" for anything else.
std::string provider_code(int http_status);
std::string provider_code(ErrorKind no_answer_kind);

struct EngineMetrics {
  explicit EngineMetrics(Registry& registry);

  // One per finished evaluation (row in `run`, request in `serve`), by final status.
  CounterFamily& evaluations;
  // One per HTTP attempt to a provider, retries included.
  CounterFamily& provider_requests;
  // Attempt latency, request sent to reply parsed or failure, in seconds.
  HistogramFamily& provider_request_duration;
  // Evaluations in flight; unlabelled: use inflight_requests.get().add(1) / add(-1).
  GaugeFamily& inflight_requests;
  // Calls waiting for a limiter admission or a free connection.
  GaugeFamily& queue_depth;
  // The provider's breaker, values as resilience::BreakerState (0 closed, 1 half-open, 2 open).
  GaugeFamily& breaker_state;
  // How long a call waited for the rate limiter before it was sent, in seconds.
  HistogramFamily& ratelimit_wait;
  // Tokens the provider reported, by direction.
  CounterFamily& tokens;
  // Attempts after the first, per provider.
  CounterFamily& retries;
  // Calls handed from one provider to the next in the fallback chain.
  CounterFamily& fallbacks;
  // 1 while the shared Redis limiter is unreachable and each process uses a local share.
  GaugeFamily& limiter_degraded;
  // Judge-cache lookups, by result (kCacheHit, kCacheMiss).
  CounterFamily& cache_requests;
  // Dollars spent, from the provider's reported usage at its configured price. A provider
  // without a price has no series: its cost is unknown, never $0.
  CounterFamily& cost_usd;
};

}  // namespace llmeval::metrics
