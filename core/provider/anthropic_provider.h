// Anthropic Messages API: POST {base_url}/v1/messages with x-api-key and anthropic-version;
// the system prompt is the top-level `system` field. 529 (overloaded) maps to kServer.
// Error mapping otherwise as provider.h. `http` must outlive the provider.
#pragma once

#include <memory>

#include "core/provider/http_client.h"
#include "core/provider/provider.h"
#include "core/provider/provider_config.h"

namespace llmeval::provider {

std::unique_ptr<Provider> make_anthropic_provider(HttpClient& http, ProviderConfig config);

}  // namespace llmeval::provider
