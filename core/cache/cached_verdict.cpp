#include <nlohmann/json.hpp>

#include "core/cache/judge_cache.h"
#include "core/common/json_parse.h"
#include "core/common/json_text.h"

namespace llmeval::cache {

std::string serialize(const CachedVerdict& verdict) {
  std::string out = "{\"score\":";
  append_json_number(out, verdict.score);
  out += ",\"reason\":";
  append_json_string(out, verdict.reason);
  out += ",\"model\":";
  append_json_string(out, verdict.model);
  out += ",\"latency_ms\":";
  append_json_number(out, verdict.latency_ms);
  out += ",\"tokens\":{\"input\":";
  append_json_number(out, verdict.tokens.input);
  out += ",\"output\":";
  append_json_number(out, verdict.tokens.output);
  out += ",\"cached_input\":";
  append_json_number(out, verdict.tokens.cached_input);
  out += ",\"cache_write\":";
  append_json_number(out, verdict.tokens.cache_write);
  out += ",\"reasoning\":";
  append_json_number(out, verdict.tokens.reasoning);
  out += "}}";
  return out;
}

std::optional<CachedVerdict> parse_cached_verdict(std::string_view text) {
  try {
    nlohmann::json json = parse_json(text);
    const nlohmann::json& tokens = json.at("tokens");
    CachedVerdict verdict;
    verdict.score = json.at("score").get<double>();
    verdict.reason = json.at("reason").get<std::string>();
    verdict.model = json.at("model").get<std::string>();
    verdict.latency_ms = json.at("latency_ms").get<std::int64_t>();
    verdict.tokens.input = tokens.at("input").get<std::int64_t>();
    verdict.tokens.output = tokens.at("output").get<std::int64_t>();
    verdict.tokens.cached_input = tokens.at("cached_input").get<std::int64_t>();
    verdict.tokens.cache_write = tokens.at("cache_write").get<std::int64_t>();
    verdict.tokens.reasoning = tokens.at("reasoning").get<std::int64_t>();
    return verdict;
  } catch (const nlohmann::json::exception&) {
    return std::nullopt;
  }
}

bool reads(CacheMode mode) { return mode == CacheMode::kRead || mode == CacheMode::kReadWrite; }
bool writes(CacheMode mode) { return mode == CacheMode::kWrite || mode == CacheMode::kReadWrite; }

std::optional<CacheMode> parse_cache_mode(std::string_view text) {
  if (text == "off") return CacheMode::kOff;
  if (text == "read") return CacheMode::kRead;
  if (text == "write") return CacheMode::kWrite;
  if (text == "readwrite") return CacheMode::kReadWrite;
  return std::nullopt;
}

}  // namespace llmeval::cache
