// RunnerMetrics: what the Runner reports to the contract metrics (core/metrics/engine_metrics.h),
// with each provider's series looked up once. Built without EngineMetrics it does nothing, so
// the runner calls it unconditionally. In `run`, llmeval_inflight_requests counts judge requests
// sent and not yet answered; llmeval_queue_depth counts calls read but not yet sent (waiting for
// a concurrency slot, the limiter, a backoff or a breaker).
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "core/common/error.h"
#include "core/metrics/engine_metrics.h"
#include "core/output/result_record.h"
#include "core/provider/provider.h"
#include "core/resilience/circuit_breaker.h"

namespace llmeval::runner {

class RunnerMetrics {
 public:
  // `metrics` may be null; borrowed otherwise. provider_names are the chain's, in order.
  RunnerMetrics(metrics::EngineMetrics* metrics, const std::vector<std::string>& provider_names);

  void evaluation(output::Status status);
  void request_sent();
  // An attempt's outcome: error is null on success.
  void request_done(std::size_t provider, const Error* error, double seconds);
  void tokens(std::size_t provider, const provider::TokenUsage& usage);
  void queue_depth(std::size_t waiting);
  void breaker_state(std::size_t provider, resilience::BreakerState state);
  void rate_limit_wait(std::size_t provider, double seconds);
  void retry(std::size_t provider);
  void fallback(std::size_t from, std::size_t to);

 private:
  struct ProviderSeries {
    metrics::Histogram* duration = nullptr;
    metrics::Histogram* ratelimit_wait = nullptr;
    metrics::Counter* tokens_in = nullptr;
    metrics::Counter* tokens_out = nullptr;
    metrics::Counter* retries = nullptr;
    metrics::Gauge* breaker = nullptr;
  };
  metrics::EngineMetrics* metrics_;
  std::vector<std::string> names_;
  std::vector<ProviderSeries> series_;
};

}  // namespace llmeval::runner
