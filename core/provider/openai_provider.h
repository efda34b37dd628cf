// OpenAI-compatible chat completions (OpenAI, vLLM, Ollama, LiteLLM, ...): POST
// {base_url}/chat/completions with a Bearer key, temperature, max_tokens and, when json_mode,
// response_format {"type": "json_object"}. Error mapping: see provider.h.
// `http` must outlive the provider.
#pragma once

#include <memory>

#include "core/provider/http_client.h"
#include "core/provider/provider.h"
#include "core/provider/provider_config.h"

namespace llmeval::provider {

std::unique_ptr<Provider> make_openai_provider(HttpClient& http, ProviderConfig config);

}  // namespace llmeval::provider
