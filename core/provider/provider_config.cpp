#include "core/provider/provider_config.h"

#include "core/common/ascii.h"
#include "core/provider/model_families.h"

#include <algorithm>
#include <cctype>
#include <limits>
#include <string>
#include <utility>

namespace llmeval::provider {
namespace {

constexpr std::string_view kSpecForms =
    "use openai:MODEL[@BASE_URL], anthropic:MODEL[@BASE_URL], azure:DEPLOYMENT@https://RESOURCE.openai.azure.com "
    "or sim";

Error bad_request(std::string message) { return Error{ErrorKind::kBadRequest, std::move(message), {}}; }


std::string_view trim(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) text.remove_prefix(1);
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.remove_suffix(1);
  return text;
}

std::optional<ProviderType> type_from_string(std::string_view text) {
  if (iequals(text, "openai")) return ProviderType::kOpenAI;
  if (iequals(text, "anthropic")) return ProviderType::kAnthropic;
  if (iequals(text, "azure")) return ProviderType::kAzure;
  if (iequals(text, "sim")) return ProviderType::kSim;
  return std::nullopt;
}

// A base URL must carry its scheme and a host; trailing slashes go, because the clients append
// "/chat/completions" or "/v1/messages".
Result<std::string> normalize_base_url(std::string_view url, std::string_view who) {
  std::size_t scheme = istarts_with(url, "https://") ? 8 : istarts_with(url, "http://") ? 7 : 0;
  if (scheme == 0) {
    return bad_request(std::string(who) + ": base URL \"" + std::string(url) +
                       "\" must start with http:// or https://");
  }
  while (url.size() > scheme && url.back() == '/') url.remove_suffix(1);
  if (url.size() == scheme) {
    return bad_request(std::string(who) + ": base URL \"" + std::string(url) + "\" has no host");
  }
  for (char c : url) {
    if (std::isspace(static_cast<unsigned char>(c))) {
      return bad_request(std::string(who) + ": base URL \"" + std::string(url) + "\" contains whitespace");
    }
  }
  return std::string(url);
}

// Where MODEL ends and BASE_URL begins in "MODEL@BASE_URL". Model ids may themselves contain
// '@' (Vertex: "claude-3-5-sonnet@20240620"), so only an '@' followed by a scheme splits.
// An '@' followed by something host-like without a scheme is reported as a bad URL.
std::size_t find_url_separator(std::string_view rest) {
  for (std::size_t at = rest.find('@'); at != std::string_view::npos; at = rest.find('@', at + 1)) {
    std::string_view after = rest.substr(at + 1);
    if (istarts_with(after, "http://") || istarts_with(after, "https://")) return at;
  }
  std::size_t last = rest.rfind('@');
  if (last != std::string_view::npos) {
    std::string_view after = rest.substr(last + 1);
    if (after.find_first_of("/:.") != std::string_view::npos || istarts_with(after, "localhost")) return last;
  }
  return std::string_view::npos;
}

bool valid_name(std::string_view name) {
  if (name.empty()) return false;
  for (char c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-' && c != '.') return false;
  }
  return true;
}

bool valid_env_name(std::string_view name) {
  if (name.empty() || std::isdigit(static_cast<unsigned char>(name.front()))) return false;
  for (char c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') return false;
  }
  return true;
}

// Reads the config entry field by field; every message names the provider and the field.
class EntryReader {
 public:
  EntryReader(const nlohmann::json& entry, std::string who) : entry_(entry), who_(std::move(who)) {}

  const std::string& who() const { return who_; }

  Error field_error(std::string_view field, std::string_view problem) const {
    return bad_request(who_ + ": field \"" + std::string(field) + "\" " + std::string(problem));
  }

  // Absent or null -> nullopt; present but not a string -> error.
  Result<std::optional<std::string>> string(const char* field) const {
    auto it = entry_.find(field);
    if (it == entry_.end() || it->is_null()) return std::optional<std::string>{};
    if (!it->is_string()) return field_error(field, "must be a string");
    return std::optional<std::string>{it->get<std::string>()};
  }

  // A whole number >= min (5000 and 5000.0 are both accepted).
  Result<std::optional<std::int64_t>> integer(const char* field, std::int64_t min) const {
    auto it = entry_.find(field);
    if (it == entry_.end() || it->is_null()) return std::optional<std::int64_t>{};
    std::string problem = min > 0 ? "must be a positive integer" : "must be a non-negative integer";
    std::int64_t value = 0;
    if (it->is_number_unsigned()) {
      auto u = it->get<std::uint64_t>();
      if (u > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) return field_error(field, "is too large");
      value = static_cast<std::int64_t>(u);
    } else if (it->is_number_integer()) {
      value = it->get<std::int64_t>();
    } else if (it->is_number_float()) {
      double d = it->get<double>();
      if (d != static_cast<double>(static_cast<std::int64_t>(d))) return field_error(field, problem);
      value = static_cast<std::int64_t>(d);
    } else {
      return field_error(field, problem);
    }
    if (value < min) return field_error(field, problem);
    return std::optional<std::int64_t>{value};
  }

 private:
  const nlohmann::json& entry_;
  std::string who_;
};

Result<Price> parse_price(const nlohmann::json& price, const EntryReader& reader) {
  constexpr std::string_view kForm =
      "must be an object {\"input_per_mtok\": N, \"output_per_mtok\": N[, \"cached_input_per_mtok\": N]"
      "[, \"cache_write_per_mtok\": N]}";
  if (!price.is_object()) return reader.field_error("price", kForm);
  Price out;
  for (const auto& [key, value] : price.items()) {
    if (!value.is_number() || value.get<double>() < 0) {
      return reader.field_error("price." + key, "must be a non-negative number");
    }
    double number = value.get<double>();
    if (key == "input_per_mtok") {
      out.input_per_mtok = number;
    } else if (key == "output_per_mtok") {
      out.output_per_mtok = number;
    } else if (key == "cached_input_per_mtok") {
      out.cached_input_per_mtok = number;
    } else if (key == "cache_write_per_mtok") {
      out.cache_write_per_mtok = number;
    } else {
      return reader.field_error("price." + key,
                                "is unknown; use input_per_mtok, output_per_mtok, cached_input_per_mtok "
                                "and cache_write_per_mtok");
    }
  }
  return out;
}

constexpr std::string_view kKnownFields[] = {
    "name",        "type",       "model",     "base_url",   "api_key_env",      "rpm",
    "tpm",         "timeout_ms", "price",     "deployment", "api_version",      "token_param",
    "temperature", "json_mode",  "max_tokens", "headers",   "reasoning_effort", "prompt_cache",
    "burst_ms",    "batch"};

// Rejects secrets and typos up front: an unknown field is almost always a misspelling ("tmp").
std::optional<Error> check_field_names(const nlohmann::json& entry, const EntryReader& reader) {
  for (const auto& [key, value] : entry.items()) {
    if (key == "api_key" || key == "apiKey" || key == "api-key" || key == "key") {
      return reader.field_error(key,
                                "is not allowed: keys come only from the environment variable named by "
                                "api_key_env, never from the config file");
    }
    bool known = false;
    for (auto field : kKnownFields) known = known || key == field;
    if (!known) {
      return reader.field_error(key,
                                "is unknown; provider fields are name, type, model, base_url, api_key_env, "
                                "rpm, tpm, burst_ms, timeout_ms, price, deployment, api_version, token_param, "
                                "temperature, reasoning_effort, json_mode, max_tokens, prompt_cache, batch and headers");
    }
  }
  return std::nullopt;
}

// A JSON string field that must be one of `choices`; the index of the match.
Result<std::optional<std::size_t>> choice(const EntryReader& reader, const char* field,
                                          std::initializer_list<std::string_view> choices) {
  auto text = reader.string(field);
  if (!text) return text.error();
  if (!text.value()) return std::optional<std::size_t>{};
  std::size_t index = 0;
  std::string listed;
  for (auto option : choices) {
    if (*text.value() == option) return std::optional<std::size_t>{index};
    listed += (index == 0 ? "\"" : index + 1 == choices.size() ? " or \"" : ", \"") + std::string(option) + "\"";
    ++index;
  }
  return reader.field_error(field, "must be " + listed);
}

// "headers": {"Name": "value or ${VAR}"}. Names are checked here; values are expanded by the CLI.
std::optional<Error> read_headers(const EntryReader& reader, const nlohmann::json& headers, ProviderConfig& config) {
  if (!headers.is_object()) return reader.field_error("headers", "must be an object {\"Header-Name\": \"value\"}");
  for (const auto& [name, value] : headers.items()) {
    bool token = !name.empty();
    for (char c : name) token = token && (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_');
    if (!token) return reader.field_error("headers", "has a bad header name \"" + name + "\"");
    // Never echo a value: it may be a secret.
    if (!value.is_string()) return reader.field_error("headers." + name, "must be a string");
    const auto& text = value.get_ref<const std::string&>();
    if (text.find_first_of("\r\n") != std::string::npos) {
      return reader.field_error("headers." + name, "must not contain a line break");
    }
    config.headers.emplace_back(name, text);
  }
  return std::nullopt;
}

// What the request body carries (RequestShape); each unset field keeps the family default.
std::optional<Error> read_request_fields(const EntryReader& reader, const nlohmann::json& entry,
                                         ProviderConfig& config) {
  auto token_param = choice(reader, "token_param", {"max_tokens", "max_completion_tokens"});
  if (!token_param) return token_param.error();
  if (token_param.value()) {
    config.token_param = *token_param.value() == 0 ? TokenParam::kMaxTokens : TokenParam::kMaxCompletionTokens;
  }
  auto json_mode = choice(reader, "json_mode", {"schema", "object", "off"});
  if (!json_mode) return json_mode.error();
  if (json_mode.value()) {
    constexpr JsonMode kModes[] = {JsonMode::kSchema, JsonMode::kObject, JsonMode::kOff};
    config.json_mode = kModes[*json_mode.value()];
  }
  auto prompt_cache = choice(reader, "prompt_cache", {"auto", "off"});
  if (!prompt_cache) return prompt_cache.error();
  if (prompt_cache.value()) config.prompt_cache = *prompt_cache.value() == 0;
  if (auto it = entry.find("batch"); it != entry.end()) {
    if (!it->is_boolean()) return reader.field_error("batch", "must be true or false");
    config.batch = it->get<bool>();
  }
  auto effort = reader.string("reasoning_effort");
  if (!effort) return effort.error();
  if (effort.value()) config.reasoning_effort = *effort.value();
  if (auto it = entry.find("temperature"); it != entry.end()) {
    if (it->is_null()) {
      config.temperature = std::optional<double>{};
    } else if (!it->is_number() || it->get<double>() < 0 || it->get<double>() > 2) {
      return reader.field_error("temperature", "must be a number from 0 to 2, or null (not sent)");
    } else {
      config.temperature = std::optional<double>{it->get<double>()};
    }
  }
  auto max_tokens = reader.integer("max_tokens", 16);
  if (!max_tokens) return reader.field_error("max_tokens", "must be a whole number, at least 16");
  if (max_tokens.value()) config.max_tokens = static_cast<int>(std::min<std::int64_t>(*max_tokens.value(), 1 << 20));
  if (auto it = entry.find("headers"); it != entry.end() && !it->is_null()) {
    if (auto error = read_headers(reader, *it, config)) return error;
  }
  return std::nullopt;
}

// The fields after type and name; each check names its field.
std::optional<Error> read_fields(const EntryReader& reader, const nlohmann::json& entry,
                                 ProviderConfig& config) {
  auto model = reader.string("model");
  if (!model) return model.error();
  if (model.value()) config.model = *model.value();
  auto deployment = reader.string("deployment");
  if (!deployment) return deployment.error();
  if (deployment.value()) config.deployment = *deployment.value();
  if (config.type == ProviderType::kAzure) {
    if (config.deployment.empty()) return reader.field_error("deployment", "is required for type azure");
    if (!entry.contains("base_url")) {
      return reader.field_error("base_url", "is required for type azure: https://RESOURCE.openai.azure.com");
    }
  } else if (!config.deployment.empty()) {
    return reader.field_error("deployment", "is only for type azure");
  }
  if (config.model.empty() && config.type != ProviderType::kSim && config.type != ProviderType::kAzure) {
    return reader.field_error("model", std::string("is required for type ") + to_string(config.type));
  }
  auto api_version = reader.string("api_version");
  if (!api_version) return api_version.error();
  if (api_version.value()) config.api_version = *api_version.value();

  auto base_url = reader.string("base_url");
  if (!base_url) return base_url.error();
  if (base_url.value()) {
    auto url = normalize_base_url(*base_url.value(), reader.who());
    if (!url) return url.error();
    config.base_url = std::move(url.value());
  }

  auto env = reader.string("api_key_env");
  if (!env) return env.error();
  if (env.value()) {
    // Never echo the value: someone may have pasted the key itself here.
    if (!valid_env_name(*env.value())) {
      return reader.field_error("api_key_env",
                                "must be the name of an environment variable (letters, digits and '_'), "
                                "not the key itself");
    }
    config.api_key_env = *env.value();
  }

  auto rpm = reader.integer("rpm", 0);
  if (!rpm) return rpm.error();
  if (rpm.value()) config.rpm = *rpm.value();
  auto tpm = reader.integer("tpm", 0);
  if (!tpm) return tpm.error();
  if (tpm.value()) config.tpm = *tpm.value();
  auto burst = reader.integer("burst_ms", 1);
  if (!burst) return burst.error();
  if (burst.value()) config.burst = std::chrono::milliseconds(*burst.value());
  auto timeout = reader.integer("timeout_ms", 1);
  if (!timeout) return timeout.error();
  if (timeout.value()) config.timeout = std::chrono::milliseconds(*timeout.value());

  if (auto it = entry.find("price"); it != entry.end() && !it->is_null()) {
    auto price = parse_price(*it, reader);
    if (!price) return price.error();
    config.price = price.value();
  }
  return read_request_fields(reader, entry, config);
}

}  // namespace

double cost_of(const TokenUsage& usage, const Price& price) {
  std::int64_t cached = std::min(usage.cached_input, usage.input);
  std::int64_t written = std::min(usage.cache_write, usage.input - cached);
  double uncached = static_cast<double>(usage.input - cached - written);
  return (uncached * price.input_per_mtok +
          static_cast<double>(cached) * price.cached_input_per_mtok.value_or(price.input_per_mtok) +
          static_cast<double>(written) * price.cache_write_per_mtok.value_or(price.input_per_mtok) +
          static_cast<double>(usage.output) * price.output_per_mtok) /
         1e6;
}

double worst_case_cost(std::int64_t input, std::int64_t output_cap, const Price& price) {
  double input_rate = std::max(price.input_per_mtok, price.cache_write_per_mtok.value_or(0.0));
  return (static_cast<double>(input) * input_rate + static_cast<double>(output_cap) * price.output_per_mtok) / 1e6;
}

Price batch_price(const Price& online) {
  Price p;
  p.input_per_mtok = online.input_per_mtok * kBatchPriceFactor;
  p.output_per_mtok = online.output_per_mtok * kBatchPriceFactor;
  if (online.cached_input_per_mtok) p.cached_input_per_mtok = *online.cached_input_per_mtok * kBatchPriceFactor;
  if (online.cache_write_per_mtok) p.cache_write_per_mtok = *online.cache_write_per_mtok * kBatchPriceFactor;
  return p;
}

const char* to_string(ProviderType type) {
  switch (type) {
    case ProviderType::kOpenAI: return "openai";
    case ProviderType::kAnthropic: return "anthropic";
    case ProviderType::kAzure: return "azure";
    case ProviderType::kSim: return "sim";
  }
  return "unknown";
}

void apply_type_defaults(ProviderConfig& config) {
  if (config.name.empty()) config.name = to_string(config.type);
  switch (config.type) {
    case ProviderType::kOpenAI:
      if (config.base_url.empty()) config.base_url = "https://api.openai.com/v1";
      if (config.api_key_env.empty()) {
        config.api_key_env = is_azure_host(config.base_url) ? "AZURE_OPENAI_API_KEY" : "OPENAI_API_KEY";
      }
      break;
    case ProviderType::kAnthropic:
      if (config.base_url.empty()) config.base_url = "https://api.anthropic.com";
      if (config.api_key_env.empty()) config.api_key_env = "ANTHROPIC_API_KEY";
      break;
    case ProviderType::kAzure:
      if (config.api_key_env.empty()) config.api_key_env = "AZURE_OPENAI_API_KEY";
      if (config.api_version.empty()) config.api_version = kAzureApiVersion;
      if (config.model.empty()) config.model = config.deployment;
      break;
    case ProviderType::kSim:
      if (config.model.empty()) config.model = "sim";
      break;
  }
}

const char* to_string(TokenParam param) {
  return param == TokenParam::kMaxTokens ? "max_tokens" : "max_completion_tokens";
}

const char* to_string(JsonMode mode) {
  switch (mode) {
    case JsonMode::kSchema: return "schema";
    case JsonMode::kObject: return "object";
    case JsonMode::kOff: return "off";
  }
  return "off";
}

Result<ProviderConfig> parse_provider_spec(std::string_view raw_spec) {
  std::string_view spec = trim(raw_spec);
  std::string who = "provider \"" + std::string(spec) + "\"";
  std::size_t colon = spec.find(':');
  std::string_view type_text = spec.substr(0, colon);
  if (type_text.empty()) return bad_request(who + ": missing type; " + std::string(kSpecForms));

  auto type = type_from_string(type_text);
  if (!type) {
    return bad_request(who + ": unknown type \"" + std::string(type_text) + "\"; " + std::string(kSpecForms));
  }
  ProviderConfig config;
  config.type = *type;
  if (config.type == ProviderType::kSim) {  // "sim" or "sim:anything": the suffix is ignored
    apply_type_defaults(config);
    return config;
  }
  if (colon == std::string_view::npos) {
    return bad_request(who + ": missing model; " + std::string(kSpecForms));
  }

  std::string_view rest = spec.substr(colon + 1);
  std::size_t at = find_url_separator(rest);
  std::string_view model = rest.substr(0, at);
  if (model.empty()) return bad_request(who + ": missing model; " + std::string(kSpecForms));
  if (config.type == ProviderType::kAzure) {
    // The deployment names the model for the family table, as it usually does; a config entry
    // can say otherwise with "model".
    config.deployment = std::string(model);
    if (at == std::string_view::npos) {
      return bad_request(who + ": an Azure provider needs its resource URL; " + std::string(kSpecForms));
    }
  } else {
    config.model = std::string(model);
  }
  if (at != std::string_view::npos) {
    auto url = normalize_base_url(rest.substr(at + 1), who);
    if (!url) return url.error();
    config.base_url = std::move(url.value());
  }
  apply_type_defaults(config);
  return config;
}

Result<ProviderConfig> parse_provider_config(const nlohmann::json& entry) {
  if (!entry.is_object()) return bad_request("provider entry: must be a JSON object");

  std::string who = "provider entry";
  if (auto it = entry.find("name"); it != entry.end() && it->is_string()) {
    who = "provider \"" + it->get<std::string>() + "\"";
  }
  EntryReader reader(entry, who);
  if (auto error = check_field_names(entry, reader)) return *error;

  ProviderConfig config;
  auto type_text = reader.string("type");
  if (!type_text) return type_text.error();
  if (!type_text.value()) {
    return reader.field_error("type", "is required: \"openai\", \"anthropic\", \"azure\" or \"sim\"");
  }
  auto type = type_from_string(*type_text.value());
  if (!type) {
    return reader.field_error("type", "has unknown value \"" + *type_text.value() +
                                          "\"; use \"openai\", \"anthropic\", \"azure\" or \"sim\"");
  }
  config.type = *type;

  auto name = reader.string("name");
  if (!name) return name.error();
  if (name.value()) {
    if (!valid_name(*name.value())) {
      return reader.field_error("name", "must be non-empty and use only letters, digits, '_', '-' and '.'");
    }
    config.name = *name.value();
  }

  if (auto error = read_fields(reader, entry, config)) return *error;
  apply_type_defaults(config);
  return config;
}

}  // namespace llmeval::provider
