#include "core/provider/param_adaptation.h"

#include <array>
#include <cctype>
#include <string_view>
#include <utility>

#include <nlohmann/json.hpp>

#include "core/common/ascii.h"

namespace llmeval::provider {
namespace {

using nlohmann::json;

// Words with which the vendors (and compatible servers) say a parameter is not taken, as
// opposed to a value being out of range ("max_tokens is too large").
bool says_refused(std::string_view message) {
  constexpr std::array<std::string_view, 9> kWords = {
      "unsupported",  "not supported",  "unknown parameter", "unrecognized", "deprecated",
      "not permitted", "does not support", "only the default", "not allowed"};
  for (auto word : kWords) {
    if (message.find(word) != std::string_view::npos) return true;
  }
  return false;
}

bool word_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.'; }

// Where `name` first occurs in text as a whole word (not inside "top_temperature"), or npos.
std::size_t find_word(std::string_view text, std::string_view name) {
  for (auto at = text.find(name); at != std::string_view::npos; at = text.find(name, at + 1)) {
    bool before = at == 0 || !word_char(text[at - 1]);
    std::size_t end = at + name.size();
    bool after = end == text.size() || !word_char(text[end]) || text[end] == '.';
    if (before && after) return at;
  }
  return std::string_view::npos;
}

// The request parameters llmeval sends that an API may refuse, as the APIs name them.
constexpr std::array<std::string_view, 10> kParams = {
    "temperature",      "max_tokens",          "max_completion_tokens", "response_format", "reasoning_effort",
    "output_config.format", "output_format",   "output_config.effort",  "output_config",   "cache_control"};

// The parameter named first in the message ("'max_tokens' is not supported ... use
// 'max_completion_tokens' instead" names the refused one first).
std::string first_param_named(std::string_view message) {
  std::size_t best = std::string_view::npos;
  std::string_view found;
  for (auto param : kParams) {
    std::size_t at = find_word(message, param);
    if (at < best || (at == best && param.size() > found.size())) {
      best = at;
      found = param;
    }
  }
  return std::string(found);
}

// The (param, message) of an OpenAI-style {"error": {"message", "param", "code"}} or an
// Anthropic-style {"type": "error", "error": {"type", "message"}} body.
std::pair<std::string, std::string> refusal_of(const std::string& body) {
  json reply = json::parse(body, nullptr, false);
  if (reply.is_discarded() || !reply.is_object()) return {};
  auto error = reply.find("error");
  const json& object = error != reply.end() && error->is_object() ? *error : reply;
  std::string message = ascii_lower(object.value("message", std::string()));
  std::string code = ascii_lower(object.contains("code") && object["code"].is_string() ? object["code"].get<std::string>() : "");
  std::string param = object.contains("param") && object["param"].is_string() ? object["param"].get<std::string>() : "";
  bool refused = says_refused(message) || code == "unsupported_parameter" || code == "unsupported_value" ||
                 code == "unknown_parameter";
  if (!refused) return {};
  if (param.empty() || param == "messages") param = first_param_named(message);
  return {param, message};
}

Adaptation adaptation(std::string key, std::string change, std::string setting) {
  return Adaptation{std::move(key), std::move(change), std::move(setting)};
}

}  // namespace

std::optional<Adaptation> apply_adaptation(const std::string& key, ProviderType type, RequestShape& shape) {
  bool anthropic = type == ProviderType::kAnthropic;
  if (key == "temperature" && shape.temperature) {
    shape.temperature.reset();
    return adaptation(key, "no longer sends temperature", "\"temperature\": null");
  }
  if (key == "max_tokens" && !anthropic && shape.token_param == TokenParam::kMaxTokens) {
    shape.token_param = TokenParam::kMaxCompletionTokens;
    return adaptation(key, "sends max_completion_tokens instead of max_tokens",
                      "\"token_param\": \"max_completion_tokens\"");
  }
  if (key == "max_completion_tokens" && !anthropic && shape.token_param == TokenParam::kMaxCompletionTokens) {
    shape.token_param = TokenParam::kMaxTokens;
    return adaptation(key, "sends max_tokens instead of max_completion_tokens", "\"token_param\": \"max_tokens\"");
  }
  if (key == "json_schema" && shape.json_mode == JsonMode::kSchema) {
    shape.json_mode = anthropic ? JsonMode::kOff : JsonMode::kObject;
    return adaptation(key, anthropic ? "asks for JSON in the prompt only" : "asks for a JSON object instead of a schema",
                      anthropic ? "\"json_mode\": \"off\"" : "\"json_mode\": \"object\"");
  }
  if ((key == "json_object" || key == "response_format") && shape.json_mode != JsonMode::kOff) {
    shape.json_mode = JsonMode::kOff;
    return adaptation(key, "asks for JSON in the prompt only", "\"json_mode\": \"off\"");
  }
  if (key == "reasoning_effort" && !shape.reasoning_effort.empty()) {
    shape.reasoning_effort.clear();
    return adaptation(key, "no longer sends a reasoning effort", "no \"reasoning_effort\"");
  }
  if (key == "cache_control" && shape.prompt_cache) {
    shape.prompt_cache = false;
    return adaptation(key, "no longer marks the prompt for caching", "\"prompt_cache\": \"off\"");
  }
  return std::nullopt;
}

bool is_refusal(const HttpResponse& response) {
  return (response.status == 400 || response.status == 422) && !refusal_of(response.body).first.empty();
}

std::optional<Adaptation> adapt_to_refusal(const HttpResponse& response, ProviderType type, RequestShape& shape) {
  if (response.status != 400 && response.status != 422) return std::nullopt;
  auto [param, message] = refusal_of(response.body);
  if (param.empty()) return std::nullopt;
  std::string key = param;
  if (param == "response_format") {
    if (message.find("json_schema") != std::string::npos) {
      key = "json_schema";
    } else if (message.find("json_object") != std::string::npos) {
      key = "json_object";
    }
  } else if (param == "output_format" || param == "output_config.format") {
    key = "json_schema";
  } else if (param == "output_config.effort") {
    key = "reasoning_effort";
  } else if (param == "output_config") {
    // Both of our parts live there; the structured output goes first, the effort next time.
    key = shape.json_mode == JsonMode::kSchema ? "json_schema" : "reasoning_effort";
  }
  return apply_adaptation(key, type, shape);
}

}  // namespace llmeval::provider
