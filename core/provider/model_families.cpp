#include "core/provider/model_families.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <string>

#include "core/common/ascii.h"

namespace llmeval::provider {
namespace {

bool starts_with(std::string_view text, std::string_view prefix) { return text.substr(0, prefix.size()) == prefix; }

// A Claude model id's family and version: "claude-opus-4-7", "claude-sonnet-4-5-20250929",
// "claude-sonnet-5", "claude-3-5-haiku-latest" (the older order), "anthropic.claude-opus-4-7-v1:0"
// (Bedrock). Version 4.7 is 47, 5 is 50; 0 when there is none.
struct ClaudeId {
  std::string family;  // opus, sonnet, haiku, fable, mythos, ...
  int version = 0;
};

// Reads "N[-M]" at the front of text (M a single digit: "4-5", not a date "4-20250514").
int read_version(std::string_view text) {
  int major = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), major);
  if (ec != std::errc() || major > 20) return 0;
  std::string_view rest(end, static_cast<std::size_t>(text.data() + text.size() - end));
  int minor = 0;
  if (rest.size() >= 2 && rest[0] == '-' && std::isdigit(static_cast<unsigned char>(rest[1])) &&
      (rest.size() == 2 || !std::isdigit(static_cast<unsigned char>(rest[2])))) {
    minor = rest[1] - '0';
  }
  return major * 10 + minor;
}

ClaudeId claude_id(std::string_view model) {
  ClaudeId id;
  auto at = model.find("claude-");
  if (at == std::string_view::npos) return id;
  std::string_view rest = model.substr(at + 7);
  if (!rest.empty() && std::isdigit(static_cast<unsigned char>(rest[0]))) {  // claude-3-5-haiku
    id.version = read_version(rest);
    auto dash = rest.find_first_not_of("0123456789-");
    if (dash != std::string_view::npos) id.family = std::string(rest.substr(dash, rest.find('-', dash) - dash));
    return id;
  }
  auto dash = rest.find('-');
  id.family = std::string(rest.substr(0, dash));
  if (dash != std::string_view::npos) id.version = read_version(rest.substr(dash + 1));
  return id;
}

// ---- the table ----------------------------------------------------------------------------
// OpenAI: the o-series and the gpt-5 family reason, take only the default temperature and
// refuse `max_tokens` (they need `max_completion_tokens`). Older GPT-4 / GPT-3.5 models have
// no structured outputs (json_schema); gpt-4o-mini, gpt-4o and later do.
ModelTraits openai_traits(std::string_view model) {
  ModelTraits t;
  t.structured_output = true;
  if (model.size() >= 2 && model[0] == 'o' && std::isdigit(static_cast<unsigned char>(model[1]))) {
    t.family = "OpenAI o-series";
    t.reasoning = true;
    t.refuses_temperature = true;
  } else if (starts_with(model, "gpt-5")) {
    t.family = "OpenAI gpt-5";
    t.reasoning = true;
    t.refuses_temperature = true;
  } else if (starts_with(model, "gpt-3.5") || model == "gpt-4" || starts_with(model, "gpt-4-")) {
    t.family = "OpenAI gpt-4 / gpt-3.5 (legacy)";
    t.structured_output = false;
  } else if (starts_with(model, "gpt-")) {
    t.family = "OpenAI gpt-4o / gpt-4.1";
  }
  return t;
}

// Anthropic: Opus 4.7 and later, and every Claude 5 model, refuse `temperature` ("deprecated
// for this model"). Structured outputs (output_config.format) from the 4.5 models on. Fable and
// Opus 5.5 think on every request (adaptive thinking, always on). Shortest cacheable prefix:
// 4096 tokens for Opus 4.5-4.7 and Haiku 4.5, 2048 for Sonnet 4.6 and Claude 3 Haiku, else 1024.
ModelTraits anthropic_traits(std::string_view model) {
  ModelTraits t;
  ClaudeId id = claude_id(model);
  if (id.family.empty()) return t;
  bool opus = id.family == "opus";
  t.family = id.version >= 50 ? "Claude 5" : opus && id.version >= 47 ? "Claude Opus 4.7+" : "Claude 4.6 and older";
  t.refuses_temperature = id.version >= 50 || (opus && id.version >= 47);
  t.structured_output = id.version >= 45;
  t.reasoning = id.family == "fable" || (opus && id.version >= 55);
  if ((opus && id.version >= 45 && id.version <= 47) || (id.family == "haiku" && id.version == 45)) {
    t.min_cache_tokens = 4096;
  } else if ((id.family == "sonnet" && id.version == 46) || (id.family == "haiku" && id.version < 40)) {
    t.min_cache_tokens = 2048;
  }
  return t;
}

// "openai/gpt-5-mini" (routers), "us.anthropic.claude-opus-4-7-v1:0" (Bedrock): the model's
// own name is after the last '/'; Claude ids are found wherever they start.
std::string bare_model(std::string_view model) {
  std::string name = ascii_lower(model);
  if (auto slash = name.rfind('/'); slash != std::string::npos) name.erase(0, slash + 1);
  return name;
}

// The host of an http(s) URL, lower-case, without port.
std::string host_of(std::string_view url) {
  auto scheme = url.find("://");
  if (scheme != std::string_view::npos) url.remove_prefix(scheme + 3);
  url = url.substr(0, url.find_first_of("/:?#"));
  if (auto at = url.rfind('@'); at != std::string_view::npos) url.remove_prefix(at + 1);
  return ascii_lower(url);
}

bool ends_with(std::string_view text, std::string_view suffix) {
  return text.size() >= suffix.size() && text.substr(text.size() - suffix.size()) == suffix;
}

}  // namespace

bool is_openai_host(std::string_view base_url) { return host_of(base_url) == "api.openai.com"; }

bool is_azure_host(std::string_view base_url) {
  std::string host = host_of(base_url);
  return ends_with(host, ".openai.azure.com") || ends_with(host, ".cognitiveservices.azure.com") ||
         ends_with(host, ".services.ai.azure.com");
}

RequestShape initial_shape(const ProviderConfig& config) {
  ModelTraits traits = traits_of(config.type, config.model);
  RequestShape shape;
  // OpenAI's own API and Azure take max_completion_tokens for every model; other compatible
  // servers (Ollama, vLLM) may ignore it, so they get max_tokens unless the model is a known
  // reasoning one (a router forwarding to OpenAI then needs the new name).
  bool vendor_api = config.type == ProviderType::kAzure || is_openai_host(config.base_url) ||
                    is_azure_host(config.base_url);
  shape.token_param = config.token_param.value_or(vendor_api || traits.reasoning ? TokenParam::kMaxCompletionTokens
                                                                                 : TokenParam::kMaxTokens);
  if (config.temperature) {
    shape.temperature = *config.temperature;
  } else if (!traits.refuses_temperature) {
    shape.temperature = 0.0;
  }
  shape.reasoning_effort = config.reasoning_effort;
  JsonMode fallback = config.type == ProviderType::kAnthropic ? JsonMode::kOff : JsonMode::kObject;
  bool schema = traits.structured_output && (config.type == ProviderType::kAnthropic || vendor_api);
  shape.json_mode = config.json_mode.value_or(schema ? JsonMode::kSchema : fallback);
  shape.prompt_cache = config.prompt_cache;
  shape.min_cache_tokens = traits.min_cache_tokens;
  shape.max_tokens = config.max_tokens.value_or(0);
  if (traits.reasoning || !config.reasoning_effort.empty()) shape.min_tokens = kReasoningMinTokens;
  return shape;
}

ModelTraits traits_of(ProviderType type, std::string_view model) {
  std::string name = bare_model(model);
  switch (type) {
    case ProviderType::kOpenAI:
    case ProviderType::kAzure: return openai_traits(name);
    case ProviderType::kAnthropic: return anthropic_traits(name);
    case ProviderType::kSim: return ModelTraits{"sim"};
  }
  return ModelTraits{};
}

}  // namespace llmeval::provider
