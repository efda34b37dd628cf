#include "core/runner/runner_metrics.h"

namespace llmeval::runner {

RunnerMetrics::RunnerMetrics(metrics::EngineMetrics* metrics, const std::vector<std::string>& provider_names,
                             bool judge_calls_are_inflight, std::vector<std::optional<provider::Price>> prices)
    : metrics_(metrics), count_inflight_(judge_calls_are_inflight), names_(provider_names) {
  if (metrics_ == nullptr) return;
  cache_hits_ = &metrics_->cache_requests.with({std::string(metrics::kCacheHit)});
  cache_misses_ = &metrics_->cache_requests.with({std::string(metrics::kCacheMiss)});
  for (std::size_t i = 0; i < names_.size(); ++i) {
    const std::string& name = names_[i];
    ProviderSeries s;
    if (i < prices.size() && prices[i]) {
      s.price = prices[i];
      s.cost = &metrics_->cost_usd.with({name});
    }
    s.duration = &metrics_->provider_request_duration.with({name});
    s.ratelimit_wait = &metrics_->ratelimit_wait.with({name});
    s.tokens_in = &metrics_->tokens.with({name, std::string(metrics::kDirectionInput)});
    s.tokens_out = &metrics_->tokens.with({name, std::string(metrics::kDirectionOutput)});
    s.retries = &metrics_->retries.with({name});
    s.breaker = &metrics_->breaker_state.with({name});
    series_.push_back(s);
  }
}

// An evaluator dropped with calls waiting or requests out (serve shutting a thread down) must not
// leave them in the gauges forever.
RunnerMetrics::~RunnerMetrics() {
  if (metrics_ == nullptr) return;
  queue_depth(0);
  if (inflight_reported_ != 0) metrics_->inflight_requests.get().add(-inflight_reported_);
}

void RunnerMetrics::evaluation(output::Status status) {
  if (metrics_ == nullptr) return;
  metrics_->evaluations.with({output::to_string(status)}).inc();
}

void RunnerMetrics::request_sent() {
  if (metrics_ == nullptr || !count_inflight_) return;
  metrics_->inflight_requests.get().add(1);
  ++inflight_reported_;
}

void RunnerMetrics::request_done(std::size_t provider, const Error* error, double seconds) {
  if (metrics_ == nullptr) return;
  if (count_inflight_) {
    metrics_->inflight_requests.get().add(-1);
    --inflight_reported_;
  }
  series_[provider].duration->observe(seconds);
  std::string code = error == nullptr          ? metrics::provider_code(200)
                     : error->http_status != 0 ? metrics::provider_code(error->http_status)
                                               : metrics::provider_code(error->kind);
  metrics_->provider_requests.with({names_[provider], code}).inc();
}

void RunnerMetrics::tokens(std::size_t provider, const provider::TokenUsage& usage) {
  if (metrics_ == nullptr) return;
  series_[provider].tokens_in->inc(static_cast<double>(usage.input));
  series_[provider].tokens_out->inc(static_cast<double>(usage.output));
  if (series_[provider].cost != nullptr)
    series_[provider].cost->inc(provider::cost_of(usage, *series_[provider].price));
}

void RunnerMetrics::queue_depth(std::size_t waiting) {
  if (metrics_ == nullptr) return;
  double now = static_cast<double>(waiting);
  if (now == queue_reported_) return;
  metrics_->queue_depth.get().add(now - queue_reported_);
  queue_reported_ = now;
}

void RunnerMetrics::breaker_state(std::size_t provider, resilience::BreakerState state) {
  if (metrics_ != nullptr) series_[provider].breaker->set(static_cast<double>(state));
}

void RunnerMetrics::rate_limit_wait(std::size_t provider, double seconds) {
  if (metrics_ != nullptr) series_[provider].ratelimit_wait->observe(seconds);
}

void RunnerMetrics::retry(std::size_t provider) {
  if (metrics_ != nullptr) series_[provider].retries->inc();
}

void RunnerMetrics::cache_lookup(bool hit) {
  if (metrics_ != nullptr) (hit ? cache_hits_ : cache_misses_)->inc();
}

void RunnerMetrics::fallback(std::size_t from, std::size_t to) {
  if (metrics_ != nullptr) metrics_->fallbacks.with({names_[from], names_[to]}).inc();
}

}  // namespace llmeval::runner
