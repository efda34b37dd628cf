// ProviderConfig: everything needed to build one provider, from the config file's `providers`
// entries or a `-p` SPEC. api_key is filled in by the CLI from the environment variable named by
// api_key_env; it is never logged, written or exported as a metric.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "core/common/error.h"

namespace llmeval::provider {

enum class ProviderType { kOpenAI, kAnthropic, kSim };
const char* to_string(ProviderType type);

struct Price {
  double input_per_mtok = 0;   // currency per million input tokens
  double output_per_mtok = 0;  // currency per million output tokens
};

struct ProviderConfig {
  std::string name;  // label in results and metrics; defaults to the type ("openai", "sim", ...)
  ProviderType type = ProviderType::kOpenAI;
  std::string model;
  std::string base_url;     // OpenAI-style includes /v1; Anthropic is the host
  std::string api_key_env;  // default OPENAI_API_KEY / ANTHROPIC_API_KEY
  std::string api_key;      // secret, resolved by the CLI
  std::int64_t rpm = 0;     // requests per minute; 0 = unlimited
  std::int64_t tpm = 0;     // tokens per minute; 0 = unlimited
  std::optional<std::chrono::milliseconds> timeout;  // per attempt; unset = run default
  std::optional<Price> price;
};

// Defaults per type: base_url https://api.openai.com/v1 or https://api.anthropic.com,
// api_key_env OPENAI_API_KEY or ANTHROPIC_API_KEY, model for sim "sim".
void apply_type_defaults(ProviderConfig& config);

// "openai:MODEL[@BASE_URL]", "anthropic:MODEL[@BASE_URL]" or "sim". Error kBadRequest with a
// message naming the accepted forms.
Result<ProviderConfig> parse_provider_spec(std::string_view spec);

// One entry of the config file's "providers" array. Error kBadRequest naming the bad field.
Result<ProviderConfig> parse_provider_config(const nlohmann::json& entry);

}  // namespace llmeval::provider
