#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "core/metrics/engine_metrics.h"
#include "core/metrics/registry.h"

using llmeval::ErrorKind;
using llmeval::metrics::EngineMetrics;
using llmeval::metrics::kDirectionInput;
using llmeval::metrics::kStatusOk;
using llmeval::metrics::provider_code;
using llmeval::metrics::Registry;

namespace {

struct ContractMetric {
  const char* name;
  const char* type;
};

// The contract: dashboards, alerts and the HPA use these names. A rename must fail here.
const std::vector<ContractMetric> kContract = {
    {"llmeval_evaluations_total", "counter"},
    {"llmeval_provider_requests_total", "counter"},
    {"llmeval_provider_request_duration_seconds", "histogram"},
    {"llmeval_inflight_requests", "gauge"},
    {"llmeval_queue_depth", "gauge"},
    {"llmeval_breaker_state", "gauge"},
    {"llmeval_ratelimit_wait_seconds", "histogram"},
    {"llmeval_tokens_total", "counter"},
    {"llmeval_retries_total", "counter"},
    {"llmeval_fallbacks_total", "counter"},
    {"llmeval_limiter_degraded", "gauge"},
    {"llmeval_cache_requests_total", "counter"},
    {"llmeval_cost_usd_total", "counter"},
};

std::size_t count_of(const std::string& text, const std::string& needle) {
  std::size_t count = 0;
  for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++count;
  return count;
}

}  // namespace

TEST_CASE("EngineMetrics registers all thirteen contract metrics with their TYPE lines", "[metrics]") {
  Registry registry;
  EngineMetrics metrics(registry);
  std::string text = registry.render();
  for (const auto& metric : kContract) {
    INFO(metric.name);
    CHECK(count_of(text, std::string("# TYPE ") + metric.name + " " + metric.type + "\n") == 1);
    CHECK(count_of(text, std::string("# HELP ") + metric.name + " ") == 1);
  }
  CHECK(count_of(text, "# TYPE ") == kContract.size());
}

TEST_CASE("EngineMetrics' unlabelled gauges read 0 from the start", "[metrics]") {
  Registry registry;
  EngineMetrics metrics(registry);
  std::string text = registry.render();
  CHECK(count_of(text, "\nllmeval_inflight_requests 0\n") == 1);
  CHECK(count_of(text, "\nllmeval_queue_depth 0\n") == 1);
  CHECK(count_of(text, "\nllmeval_limiter_degraded 0\n") == 1);
}

TEST_CASE("EngineMetrics families carry the contract labels", "[metrics]") {
  Registry registry;
  EngineMetrics metrics(registry);
  metrics.evaluations.with({std::string(kStatusOk)}).inc();
  metrics.provider_requests.with({"openai", provider_code(429)}).inc();
  metrics.provider_requests.with({"openai", provider_code(ErrorKind::kTimeout)}).inc();
  metrics.provider_request_duration.with({"openai"}).observe(1.5);
  metrics.breaker_state.with({"openai"}).set(2);
  metrics.ratelimit_wait.with({"openai"}).observe(0);
  metrics.tokens.with({"openai", std::string(kDirectionInput)}).inc(120);
  metrics.retries.with({"openai"}).inc();
  metrics.fallbacks.with({"openai", "anthropic"}).inc();
  metrics.inflight_requests.get().add(1);
  metrics.limiter_degraded.get().set(1);

  std::string text = registry.render();
  for (const char* line : {
           "llmeval_evaluations_total{status=\"ok\"} 1\n",
           "llmeval_provider_requests_total{provider=\"openai\",code=\"429\"} 1\n",
           "llmeval_provider_requests_total{provider=\"openai\",code=\"timeout\"} 1\n",
           "llmeval_provider_request_duration_seconds_count{provider=\"openai\"} 1\n",
           "llmeval_provider_request_duration_seconds_bucket{provider=\"openai\",le=\"60\"} 1\n",
           "llmeval_breaker_state{provider=\"openai\"} 2\n",
           "llmeval_ratelimit_wait_seconds_bucket{provider=\"openai\",le=\"0.005\"} 1\n",
           "llmeval_tokens_total{provider=\"openai\",direction=\"input\"} 120\n",
           "llmeval_retries_total{provider=\"openai\"} 1\n",
           "llmeval_fallbacks_total{from=\"openai\",to=\"anthropic\"} 1\n",
           "llmeval_inflight_requests 1\n",
           "llmeval_limiter_degraded 1\n",
       }) {
    INFO(line);
    CHECK(count_of(text, line) == 1);
  }
  CHECK_THROWS_AS(metrics.provider_requests.with({"openai"}), std::invalid_argument);
}

TEST_CASE("A second EngineMetrics on the same registry shares the families", "[metrics]") {
  Registry registry;
  EngineMetrics runner(registry);
  EngineMetrics server(registry);
  CHECK(&runner.evaluations == &server.evaluations);
  CHECK(&runner.provider_request_duration == &server.provider_request_duration);
  CHECK(&runner.limiter_degraded == &server.limiter_degraded);
  CHECK(count_of(registry.render(), "# TYPE ") == kContract.size());
}

TEST_CASE("provider_code is the HTTP status, or the reason there was no answer", "[metrics]") {
  CHECK(provider_code(200) == "200");
  CHECK(provider_code(429) == "429");
  CHECK(provider_code(529) == "529");
  CHECK(provider_code(ErrorKind::kTimeout) == "timeout");
  CHECK(provider_code(ErrorKind::kConnect) == "connect");
  CHECK(provider_code(ErrorKind::kIo) == "error");
  CHECK(provider_code(ErrorKind::kCancelled) == "error");
  CHECK(provider_code(ErrorKind::kServer) == "error");
}
