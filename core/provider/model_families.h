// Model families: what llmeval knows about today's judge models, by model name, in one table
// (model_families.cpp; docs/judge-models.md mirrors it). The table only sets
// defaults: a provider's config overrides each, and a model that refuses a parameter the table
// did not foresee is adapted at run time (param_adaptation.h), so a model released after this
// code still works.
#pragma once

#include <string_view>

#include "core/provider/provider_config.h"

namespace llmeval::provider {

struct ModelTraits {
  const char* family = "other";  // the table row's name, for `probe` and docs/judge-models.md
  // The API refuses any temperature but its default (OpenAI reasoning models, newer Claude):
  // llmeval then sends none.
  bool refuses_temperature = false;
  // Spends output tokens on reasoning before it answers: a larger token cap and a longer
  // attempt timeout by default, and the OpenAI token cap is `max_completion_tokens`.
  bool reasoning = false;
  // Anthropic: the model takes a JSON-schema output format (structured outputs).
  bool structured_output = false;
  // Anthropic: the shortest prompt prefix, in tokens, the model will cache.
  int min_cache_tokens = 1024;
};

// The traits of `model` behind an API of `type` (azure reads as openai). A vendor prefix
// ("openai/gpt-5-mini", "anthropic/claude-opus-4-7") is ignored; case does not matter.
ModelTraits traits_of(ProviderType type, std::string_view model);

// Defaults for reasoning families (ModelTraits::reasoning), and for any model given a
// reasoning_effort: the token cap is at least this, and an attempt may take this long.
constexpr int kReasoningMinTokens = 2048;
constexpr int kReasoningTimeoutMs = 120000;

// Whether base_url is OpenAI's own API, or an Azure OpenAI resource (its /openai/v1 API).
bool is_openai_host(std::string_view base_url);
bool is_azure_host(std::string_view base_url);

// What this provider sends before anything is adapted: its config's settings, else its family's
// defaults (docs/judge-models.md's table).
RequestShape initial_shape(const ProviderConfig& config);

}  // namespace llmeval::provider
