#include "core/metrics/engine_metrics.h"

namespace llmeval::metrics {

std::string provider_code(int http_status) { return std::to_string(http_status); }

std::string provider_code(ErrorKind no_answer_kind) {
  // Only the two failures an operator acts on differently get their own code: timeouts point
  // at the provider's latency, connection errors at DNS, TLS or the network. The rest (a local
  // I/O error, a cancelled run) are rare enough to share one series.
  switch (no_answer_kind) {
    case ErrorKind::kTimeout: return "timeout";
    case ErrorKind::kConnect: return "connect";
    default: return "error";
  }
}

// HELP texts say what one unit of the metric is and what the labels hold, since they are what
// someone reading a Grafana tooltip or `curl /metrics` sees first.
EngineMetrics::EngineMetrics(Registry& registry)
    : evaluations(registry.counter("llmeval_evaluations_total",
                                   "Evaluations finished, by final status (ok, error, invalid).", {"status"})),
      provider_requests(registry.counter(
          "llmeval_provider_requests_total",
          "Requests sent to a provider, retries included, by HTTP status code, or timeout/connect/error "
          "when no HTTP answer came back.",
          {"provider", "code"})),
      provider_request_duration(
          registry.histogram("llmeval_provider_request_duration_seconds",
                             "Time from sending a request to a provider to its reply or failure, in seconds.",
                             {"provider"}, default_latency_buckets())),
      inflight_requests(registry.gauge("llmeval_inflight_requests",
                                       "Evaluations in flight (judge requests started and not yet finished).")),
      queue_depth(registry.gauge("llmeval_queue_depth",
                                 "Provider calls waiting to be sent (for a rate limiter admission or a free slot).")),
      breaker_state(registry.gauge("llmeval_breaker_state",
                                   "Circuit breaker state per provider: 0 closed, 1 half-open, 2 open.", {"provider"})),
      ratelimit_wait(registry.histogram("llmeval_ratelimit_wait_seconds",
                                        "Time a provider call waited for the rate limiter before it was sent, in "
                                        "seconds.",
                                        {"provider"}, default_latency_buckets())),
      tokens(registry.counter("llmeval_tokens_total",
                              "Tokens used as reported by the provider, by direction (input, output).",
                              {"provider", "direction"})),
      retries(registry.counter("llmeval_retries_total", "Provider requests that were retries of an earlier attempt.",
                               {"provider"})),
      fallbacks(registry.counter("llmeval_fallbacks_total",
                                 "Calls handed from one provider to the next in the fallback chain.", {"from", "to"})),
      limiter_degraded(registry.gauge(
          "llmeval_limiter_degraded",
          "1 while the shared Redis rate limiter is unreachable and a local share of the limit is used, else 0.")),
      cache_requests(registry.counter("llmeval_cache_requests_total",
                                      "Judge-cache lookups, by result (hit, miss). A hit is a judge call not made.",
                                      {"result"})),
      cost_usd(registry.counter("llmeval_cost_usd_total",
                                "US dollars spent on judge calls, from the usage each provider reported and its "
                                "price; providers without a price have no series.",
                                {"provider"})) {}

}  // namespace llmeval::metrics
