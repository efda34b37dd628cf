// Anthropic Messages API: POST {base_url}/v1/messages with x-api-key and anthropic-version;
// the system prompt is the top-level `system` field. 529 (overloaded) maps to kServer.
// The body follows the provider's RequestShape: temperature or none, output_config with a
// json_schema format and/or an effort, the system prompt marked for caching when long enough.
// stop_reason "max_tokens" is a truncated completion; usage gives cache reads and writes.
// Error mapping otherwise as provider.h. `http` (and `store`) must outlive the provider.
#pragma once

#include <memory>

#include "core/provider/adaptation_store.h"
#include "core/provider/http_client.h"
#include "core/provider/provider.h"
#include "core/provider/provider_config.h"

namespace llmeval::provider {

std::unique_ptr<Provider> make_anthropic_provider(HttpClient& http, ProviderConfig config,
                                                  AdaptationStore* store = nullptr);

}  // namespace llmeval::provider
