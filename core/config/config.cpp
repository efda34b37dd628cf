#include "core/config/config.h"

#include <fstream>
#include <sstream>

#include "core/common/duration.h"
#include "core/common/error.h"
#include "core/dataset/criteria_parser.h"

namespace llmeval::config {
namespace {

// A field that is wrong: thrown by the parsing steps below, caught by parse_config, which
// returns it as an Error. Never leaves this file.
struct Invalid {
  explicit Invalid(std::string m) : message(std::move(m)) {}
  std::string message;
};

const nlohmann::json* section(const nlohmann::json& json, const char* name) {
  auto it = json.find(name);
  if (it == json.end() || it->is_null()) return nullptr;
  if (!it->is_object()) throw Invalid(std::string("config: \"") + name + "\" must be an object");
  return &*it;
}

double number(const nlohmann::json& obj, const char* section_name, const char* key, double fallback) {
  auto it = obj.find(key);
  if (it == obj.end()) return fallback;
  if (!it->is_number()) {
    throw Invalid(std::string("config: \"") + section_name + "." + key + "\" must be a number");
  }
  return it->get<double>();
}

std::chrono::milliseconds milliseconds(const nlohmann::json& obj, const char* section_name, const char* key,
                                       std::chrono::milliseconds fallback) {
  return std::chrono::milliseconds(
      static_cast<long>(number(obj, section_name, key, static_cast<double>(fallback.count()))));
}

std::chrono::seconds seconds(const nlohmann::json& obj, const char* section_name, const char* key,
                             std::chrono::seconds fallback) {
  return std::chrono::seconds(static_cast<long>(number(obj, section_name, key, static_cast<double>(fallback.count()))));
}

RetryConfig parse_retry(const nlohmann::json& obj) {
  RetryConfig r;
  resilience::CallPolicyOptions& p = r.policy;
  p.max_attempts = static_cast<int>(number(obj, "retry", "max_attempts", p.max_attempts));
  p.retry_base = milliseconds(obj, "retry", "base_ms", p.retry_base);
  p.retry_max = milliseconds(obj, "retry", "max_ms", p.retry_max);
  p.row_deadline = milliseconds(obj, "retry", "row_deadline_ms", p.row_deadline);
  r.budget.ratio = number(obj, "retry", "budget_ratio", r.budget.ratio);
  r.budget.min_retries = static_cast<int>(number(obj, "retry", "budget_min", r.budget.min_retries));
  if (p.max_attempts < 1) throw Invalid("config: \"retry.max_attempts\" must be at least 1");
  if (r.budget.ratio < 0 || r.budget.min_retries < 0) {
    throw Invalid("config: \"retry.budget_ratio\" and \"retry.budget_min\" must not be negative");
  }
  return r;
}

JudgeConfig parse_judge(const nlohmann::json& obj) {
  JudgeConfig j;
  if (auto it = obj.find("scale"); it != obj.end()) {
    if (!it->is_string() || !dataset::parse_scale(it->get<std::string>(), j.scale)) {
      throw Invalid("config: \"judge.scale\" must be \"1-5\", \"1-10\" or \"binary\"");
    }
  }
  if (auto it = obj.find("temperature"); it != obj.end()) {
    if (it->is_null()) {
      j.temperature = std::optional<double>{};
    } else if (!it->is_number() || it->get<double>() < 0 || it->get<double>() > 2) {
      throw Invalid("config: \"judge.temperature\" must be a number from 0 to 2, or null (not sent)");
    } else {
      j.temperature = std::optional<double>{it->get<double>()};
    }
  }
  j.max_tokens = static_cast<int>(number(obj, "judge", "max_tokens", j.max_tokens));
  if (j.max_tokens < 16) throw Invalid("config: \"judge.max_tokens\" must be at least 16");
  if (auto it = obj.find("same_model_only"); it != obj.end()) {
    if (!it->is_boolean()) throw Invalid("config: \"judge.same_model_only\" must be true or false");
    j.same_model_only = it->get<bool>();
  }
  if (auto it = obj.find("jury"); it != obj.end() && !it->is_null()) {
    const bool known = it->is_string() && (*it == "mean" || *it == "median" || *it == "majority");
    if (!known) throw Invalid("config: \"judge.jury\" must be \"mean\", \"median\" or \"majority\"");
    j.jury = it->get<std::string>();
  }
  j.jury_quorum = static_cast<int>(number(obj, "judge", "jury_quorum", j.jury_quorum));
  if (j.jury_quorum < 0) throw Invalid("config: \"judge.jury_quorum\" must be at least 1 (or 0: a majority)");
  return j;
}

resilience::BreakerOptions parse_breaker(const nlohmann::json& obj) {
  resilience::BreakerOptions b;
  b.failure_rate = number(obj, "breaker", "failure_rate", b.failure_rate);
  b.min_calls = static_cast<int>(number(obj, "breaker", "min_calls", b.min_calls));
  b.window = seconds(obj, "breaker", "window_s", b.window);
  b.open_for = seconds(obj, "breaker", "open_s", b.open_for);
  b.consecutive_failures = static_cast<int>(number(obj, "breaker", "consecutive_failures", b.consecutive_failures));
  b.half_open_probes = static_cast<int>(number(obj, "breaker", "half_open_probes", b.half_open_probes));
  if (b.failure_rate <= 0 || b.failure_rate > 1) throw Invalid("config: \"breaker.failure_rate\" must be in (0, 1]");
  if (b.min_calls < 1 || b.consecutive_failures < 1 || b.half_open_probes < 1 || b.window.count() < 1) {
    throw Invalid(
        "config: \"breaker\" min_calls, consecutive_failures, half_open_probes and window_s must be at least 1");
  }
  return b;
}

CacheConfig parse_cache(const nlohmann::json& obj) {
  CacheConfig c;
  if (auto it = obj.find("path"); it != obj.end()) {
    if (!it->is_string()) throw Invalid("config: \"cache.path\" must be a string (a file path)");
    c.path = it->get<std::string>();
  }
  if (auto it = obj.find("url"); it != obj.end()) {
    if (!it->is_string()) throw Invalid("config: \"cache.url\" must be a string (redis://host:port/db)");
    c.url = it->get<std::string>();
  }
  c.max_mb = static_cast<std::int64_t>(number(obj, "cache", "max_mb", static_cast<double>(c.max_mb)));
  if (c.max_mb < 1) throw Invalid("config: \"cache.max_mb\" must be at least 1");
  if (auto it = obj.find("ttl"); it != obj.end()) {
    std::optional<std::chrono::milliseconds> ttl;
    if (it->is_string()) ttl = parse_duration(it->get<std::string>());
    if (!ttl || *ttl < std::chrono::seconds(1)) {
      throw Invalid("config: \"cache.ttl\" must be a duration of at least 1s, e.g. \"30d\", \"12h\" or \"90m\"");
    }
    c.ttl = std::chrono::duration_cast<std::chrono::seconds>(*ttl);
  }
  return c;
}

RedisConfig parse_redis(const nlohmann::json& obj) {
  RedisConfig r;
  if (auto it = obj.find("url"); it != obj.end() && it->is_string()) r.url = it->get<std::string>();
  if (auto it = obj.find("prefix"); it != obj.end() && it->is_string()) r.prefix = it->get<std::string>();
  r.timeout = milliseconds(obj, "redis", "timeout_ms", r.timeout);
  if (r.timeout.count() < 1) throw Invalid("config: \"redis.timeout_ms\" must be at least 1");
  return r;
}

std::vector<std::pair<std::string, std::string>> parse_default_criteria(const nlohmann::json& json) {
  std::vector<std::pair<std::string, std::string>> out;
  auto it = json.find("criteria");
  if (it == json.end() || it->is_null()) return out;
  if (!it->is_object()) {
    throw Invalid("config: \"criteria\" must be an object mapping criterion names to rubrics");
  }
  for (const auto& [name, rubric] : it->items()) {
    if (!rubric.is_string() || rubric.get<std::string>().empty()) {
      throw Invalid("config: criterion \"" + name + "\" must map to a non-empty rubric string");
    }
    out.emplace_back(name, rubric.get<std::string>());
  }
  return out;
}

Config parse(const nlohmann::json& json) {
  if (!json.is_object()) throw Invalid("config: the file must hold one JSON object");
  Config config;
  if (auto it = json.find("providers"); it != json.end()) {
    if (!it->is_array()) throw Invalid("config: \"providers\" must be an array");
    for (const auto& entry : *it) {
      auto parsed = provider::parse_provider_config(entry);
      if (!parsed) throw Invalid("config: " + parsed.error().message);
      for (const auto& existing : config.providers) {
        if (existing.name == parsed.value().name) {
          throw Invalid("config: two providers are named \"" + existing.name + "\"");
        }
      }
      config.providers.push_back(std::move(parsed).value());
    }
  }
  if (auto* s = section(json, "redis")) config.redis = parse_redis(*s);
  if (auto* s = section(json, "breaker")) config.breaker = parse_breaker(*s);
  if (auto* s = section(json, "retry")) config.retry = parse_retry(*s);
  if (auto* s = section(json, "judge")) config.judge = parse_judge(*s);
  if (auto* s = section(json, "cache")) config.cache = parse_cache(*s);
  config.criteria = parse_default_criteria(json);
  return config;
}

}  // namespace

Result<Config> parse_config(const nlohmann::json& json) {
  try {
    return parse(json);
  } catch (const Invalid& invalid) {
    return Error(ErrorKind::kBadRequest, invalid.message);
  }
}

Result<Config> load_config_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Error(ErrorKind::kIo, "cannot read config file " + path);
  nlohmann::json json;
  try {
    json = nlohmann::json::parse(in);
  } catch (const nlohmann::json::parse_error& e) {
    return Error(ErrorKind::kBadRequest, "config file " + path + " is not valid JSON: " + e.what());
  }
  Result<Config> config = parse_config(json);
  if (!config) return Error(config.error().kind, config.error().message + " (in " + path + ")");
  return config;
}

}  // namespace llmeval::config
