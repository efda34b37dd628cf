#include <catch2/catch.hpp>

#include "core/common/error.h"
#include "core/config/config.h"

using llmeval::config::parse_config;

TEST_CASE("parse_config reads the docs/formats.md example", "[config]") {
  auto json = nlohmann::json::parse(R"({"providers": [
     {"name": "primary", "type": "openai", "model": "gpt-4o-mini", "base_url": "https://api.openai.com/v1",
      "api_key_env": "OPENAI_API_KEY", "rpm": 500, "tpm": 200000, "timeout_ms": 5000,
      "price": {"input_per_mtok": 0.15, "output_per_mtok": 0.60}},
     {"name": "backup", "type": "anthropic", "model": "claude-3-5-haiku-latest", "api_key_env": "ANTHROPIC_API_KEY"}],
   "redis": {"url": "redis://redis:6379/0", "prefix": "llmeval:"},
   "breaker": {"failure_rate": 0.5, "min_calls": 10, "window_s": 30, "open_s": 30},
   "retry": {"max_attempts": 4, "base_ms": 250, "max_ms": 20000},
   "judge": {"scale": "1-10", "temperature": 0, "max_tokens": 256},
   "criteria": {"correctness": "The answer is factually correct."}})");
  auto parsed = parse_config(json);
  REQUIRE(parsed.ok());
  const auto& config = parsed.value();
  REQUIRE(config.providers.size() == 2);
  CHECK(config.providers[0].name == "primary");
  CHECK(config.providers[0].rpm == 500);
  CHECK(config.providers[0].price->output_per_mtok == Approx(0.60));
  CHECK(config.providers[1].base_url == "https://api.anthropic.com");
  CHECK(config.retry.policy.max_attempts == 4);
  CHECK(config.judge.scale == llmeval::dataset::Scale::k1to10);
  REQUIRE(config.criteria.size() == 1);
  CHECK(config.criteria[0].first == "correctness");
  CHECK(config.redis.url == "redis://redis:6379/0");
}

TEST_CASE("the retry and breaker sections fill the engine's own option structs", "[config]") {
  auto parsed = parse_config(nlohmann::json::parse(R"({
     "retry": {"max_attempts": 7, "base_ms": 100, "max_ms": 900, "row_deadline_ms": 0,
               "budget_ratio": 0.25, "budget_min": 3},
     "breaker": {"failure_rate": 0.8, "min_calls": 20, "window_s": 5, "open_s": 7,
                 "consecutive_failures": 9, "half_open_probes": 2},
     "redis": {"timeout_ms": 80}})"));
  REQUIRE(parsed.ok());
  const llmeval::resilience::CallPolicyOptions& policy = parsed.value().retry.policy;
  CHECK(policy.max_attempts == 7);
  CHECK(policy.retry_base == std::chrono::milliseconds(100));
  CHECK(policy.retry_max == std::chrono::milliseconds(900));
  CHECK(policy.row_deadline == std::chrono::milliseconds(0));
  CHECK(parsed.value().retry.budget.ratio == Approx(0.25));
  CHECK(parsed.value().retry.budget.min_retries == 3);
  const llmeval::resilience::BreakerOptions& breaker = parsed.value().breaker;
  CHECK(breaker.failure_rate == Approx(0.8));
  CHECK(breaker.min_calls == 20);
  CHECK(breaker.window == std::chrono::seconds(5));
  CHECK(breaker.open_for == std::chrono::seconds(7));
  CHECK(breaker.consecutive_failures == 9);
  CHECK(breaker.half_open_probes == 2);
  CHECK(parsed.value().redis.timeout == std::chrono::milliseconds(80));

  // Absent sections keep the structs' own defaults: one definition of each.
  auto empty = parse_config(nlohmann::json::object());
  REQUIRE(empty.ok());
  CHECK(empty.value().retry.policy.retry_max == llmeval::resilience::CallPolicyOptions{}.retry_max);
  CHECK(empty.value().breaker.open_for == llmeval::resilience::BreakerOptions{}.open_for);
}

TEST_CASE("parse_config names the field that is wrong", "[config]") {
  auto message_of = [](const char* text) {
    auto config = parse_config(nlohmann::json::parse(text));
    return config.ok() ? std::string("no error") : config.error().message;
  };
  CHECK(message_of(R"({"judge": {"scale": "1-7"}})").find("judge.scale") != std::string::npos);
  CHECK(message_of(R"({"retry": {"max_attempts": "four"}})").find("retry.max_attempts") != std::string::npos);
  CHECK(message_of(R"({"criteria": ["x"]})").find("criteria") != std::string::npos);
  CHECK(message_of(R"({"providers": [{"name": "a", "type": "openai", "model": "m", "api_key": "sk-secret"}]})")
            .find("sk-secret") == std::string::npos);
  CHECK(message_of(R"({"providers": [{"name": "a", "type": "sim"}, {"name": "a", "type": "sim"}]})")
            .find("two providers") != std::string::npos);
  CHECK(message_of("[]") != "no error");
}
