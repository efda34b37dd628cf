// RunnerMetrics: what one Evaluator reports to the contract metrics (core/metrics/engine_metrics.h),
// with each provider's series looked up once. Built without EngineMetrics it does nothing, so
// the evaluator calls it unconditionally. llmeval_queue_depth counts calls handed to the
// evaluator but not yet sent (waiting for a concurrency slot, the limiter, a backoff or a
// breaker). With judge_calls_are_inflight (`run`), llmeval_inflight_requests counts judge
// requests sent and not yet answered; `serve` counts HTTP requests there itself.
//
// Several evaluators (one per `serve` thread) may share one EngineMetrics: both gauges move by
// this reporter's changes (add, never set), so they read as the sum over evaluators, and the
// destructor takes this reporter's share back out. llmeval_breaker_state is last writer wins.
// One RunnerMetrics per evaluator, used on its loop thread; the series themselves are atomic.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "core/common/error.h"
#include "core/metrics/engine_metrics.h"
#include "core/output/result_record.h"
#include "core/provider/provider.h"
#include "core/provider/provider_config.h"
#include "core/resilience/circuit_breaker.h"

namespace llmeval::runner {

class RunnerMetrics {
 public:
  // `metrics` may be null; borrowed otherwise, and must outlive this. provider_names (and
  // prices, when given) are the chain's, in order; a provider without a price has no
  // llmeval_cost_usd_total series (its cost is unknown, not $0).
  RunnerMetrics(metrics::EngineMetrics* metrics, const std::vector<std::string>& provider_names,
                bool judge_calls_are_inflight = true, std::vector<std::optional<provider::Price>> prices = {});
  ~RunnerMetrics();
  RunnerMetrics(const RunnerMetrics&) = delete;
  RunnerMetrics& operator=(const RunnerMetrics&) = delete;

  void evaluation(output::Status status);
  void request_sent();
  // An attempt's outcome: error is null on success.
  void request_done(std::size_t provider, const Error* error, double seconds);
  void tokens(std::size_t provider, const provider::TokenUsage& usage);
  // This evaluator's calls waiting now; the gauge moves by the change since the last report.
  void queue_depth(std::size_t waiting);
  void breaker_state(std::size_t provider, resilience::BreakerState state);
  void rate_limit_wait(std::size_t provider, double seconds);
  void retry(std::size_t provider);
  void fallback(std::size_t from, std::size_t to);
  void cache_lookup(bool hit);

 private:
  struct ProviderSeries {
    metrics::Histogram* duration = nullptr;
    metrics::Histogram* ratelimit_wait = nullptr;
    metrics::Counter* tokens_in = nullptr;
    metrics::Counter* tokens_out = nullptr;
    metrics::Counter* retries = nullptr;
    metrics::Gauge* breaker = nullptr;
    metrics::Counter* cost = nullptr;  // null without a price
    std::optional<provider::Price> price;
  };
  metrics::EngineMetrics* metrics_;
  bool count_inflight_;
  std::vector<std::string> names_;
  double queue_reported_ = 0;     // our share of llmeval_queue_depth
  double inflight_reported_ = 0;  // our share of llmeval_inflight_requests
  std::vector<ProviderSeries> series_;
  metrics::Counter* cache_hits_ = nullptr;  // llmeval_cache_requests_total, resolved once
  metrics::Counter* cache_misses_ = nullptr;
};

}  // namespace llmeval::runner
