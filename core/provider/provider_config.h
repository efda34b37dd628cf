// ProviderConfig: everything needed to build one provider, from the config file's `providers`
// entries or a `-p` SPEC. api_key is filled in by the CLI from the environment variable named by
// api_key_env; it is never logged, written or exported as a metric.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/common/error.h"
#include "core/provider/provider.h"
#include "core/provider/request_shape.h"

namespace llmeval::provider {

// kAzure: Azure OpenAI's deployments API (OpenAI's wire format at another path, `api-key` auth).
enum class ProviderType { kOpenAI, kAnthropic, kAzure, kSim };
const char* to_string(ProviderType type);

// Currency per million tokens. Cache reads and writes cost the input price unless set.
struct Price {
  double input_per_mtok = 0;
  double output_per_mtok = 0;
  std::optional<double> cached_input_per_mtok{};  // input read from the prompt cache
  std::optional<double> cache_write_per_mtok{};   // input written to the prompt cache
};

// What `usage` cost at `price`: uncached input, cache reads, cache writes and output each at
// their own rate.
double cost_of(const TokenUsage& usage, const Price& price);

// The most a call of `input` tokens whose output is capped at `output_cap` can cost: every
// input token at the dearer of the input and cache-write prices, the whole cap at the output
// price.
double worst_case_cost(std::int64_t input, std::int64_t output_cap, const Price& price);

// What a call costs through a batch API (run --batch), as a share of its online price: both
// vendors charge half, on input and output alike (OpenAI, Batch API guide: "a 50% cost
// discount compared to synchronous APIs"; Anthropic, Batch processing: "50% of standard API
// prices").
constexpr double kBatchPriceFactor = 0.5;
Price batch_price(const Price& online);

struct ProviderConfig {
  std::string name;  // label in results and metrics; defaults to the type ("openai", "sim", ...)
  ProviderType type = ProviderType::kOpenAI;
  std::string model;        // azure: the deployment's model, for its family (default: the deployment)
  std::string base_url;     // OpenAI-style includes /v1; Anthropic and Azure are the host
  std::string api_key_env;  // default OPENAI_API_KEY / ANTHROPIC_API_KEY / AZURE_OPENAI_API_KEY
  std::string api_key;      // secret, resolved by the CLI
  std::int64_t rpm = 0;     // requests per minute; 0 = unlimited
  std::int64_t tpm = 0;     // tokens per minute; 0 = unlimited
  // How much of rpm/tpm the limiter lets out at once, in time of refill; unset = one second's
  // worth. Lower it for a provider that enforces its limit over short intervals.
  std::optional<std::chrono::milliseconds> burst;
  std::optional<std::chrono::milliseconds> timeout;  // per attempt; unset = run default
  std::optional<Price> price;
  // Where `price` came from, for the dry run and the docs: "config", "table YYYY-MM-DD", or
  // empty when there is none (apply_table_price).
  std::string price_source;
  // Azure OpenAI: the deployment name and the api-version query parameter.
  std::string deployment;
  std::string api_version;
  // What the body carries (RequestShape); unset: the model family's default.
  std::optional<TokenParam> token_param;
  // Unset: the judge's temperature, else the family's default; set to nullopt (config null):
  // never sent.
  std::optional<std::optional<double>> temperature;
  std::string reasoning_effort;  // empty: not sent
  std::optional<JsonMode> json_mode;
  bool prompt_cache = true;      // config prompt_cache "auto" | "off"
  std::optional<int> max_tokens;  // this provider's token cap, over the judge's
  // run --batch for this provider alone (config "batch": true): its calls go through its
  // batch API at the batch price (docs/batch.md).
  bool batch = false;
  // Extra request headers (gateways). Values may name environment variables ("${VAR}"), which
  // the CLI expands; like api_key they never reach logs, results or metrics.
  std::vector<std::pair<std::string, std::string>> headers;
};

// Azure OpenAI's api-version when the config names none: the newest dated one that takes
// today's reasoning models (max_completion_tokens, reasoning_effort) and json_schema.
constexpr const char* kAzureApiVersion = "2025-04-01-preview";

// Defaults per type: base_url https://api.openai.com/v1 or https://api.anthropic.com (Azure has
// none: the resource is the user's), api_key_env OPENAI_API_KEY, ANTHROPIC_API_KEY or
// AZURE_OPENAI_API_KEY, Azure's model its deployment and its api_version kAzureApiVersion,
// model for sim "sim".
void apply_type_defaults(ProviderConfig& config);

// "openai:MODEL[@BASE_URL]", "anthropic:MODEL[@BASE_URL]", "azure:DEPLOYMENT@BASE_URL" or "sim". Error kBadRequest with a
// message naming the accepted forms.
Result<ProviderConfig> parse_provider_spec(std::string_view spec);

// One entry of the config file's "providers" array. Error kBadRequest naming the bad field.
Result<ProviderConfig> parse_provider_config(const nlohmann::json& entry);

}  // namespace llmeval::provider
