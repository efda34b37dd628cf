// OpenAI-compatible chat completions (OpenAI, Azure OpenAI, vLLM, Ollama, LiteLLM, ...): POST
// {base_url}/chat/completions with a Bearer key (Azure hosts: `api-key`), or for Azure's
// deployments API {base_url}/openai/deployments/{deployment}/chat/completions?api-version=V
// with `api-key`. The body follows the provider's RequestShape: temperature or none,
// max_tokens or max_completion_tokens, reasoning_effort, and response_format json_schema
// (strict), json_object or none. A reply cut off by the cap (finish_reason "length") is a
// truncated completion; usage details give cached and reasoning tokens. Both write batch input
// lines (Provider::batch_request): OpenAI's for /v1/chat/completions, Azure's for its global
// batch deployments (url "/chat/completions", the deployment as "model"). Error mapping: see
// provider.h. `http` (and `store`) must outlive the provider.
#pragma once

#include <memory>

#include "core/provider/adaptation_store.h"
#include "core/provider/http_client.h"
#include "core/provider/provider.h"
#include "core/provider/provider_config.h"

namespace llmeval::provider {

std::unique_ptr<Provider> make_openai_provider(HttpClient& http, ProviderConfig config,
                                               AdaptationStore* store = nullptr);
std::unique_ptr<Provider> make_azure_provider(HttpClient& http, ProviderConfig config,
                                              AdaptationStore* store = nullptr);

}  // namespace llmeval::provider
