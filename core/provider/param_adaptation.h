// Param adaptation: reading a 400 that says the API refuses a part of our request (OpenAI's
// `unsupported_parameter` / `unsupported_value` with `error.param`, Anthropic's
// invalid_request_error naming the field as deprecated or not permitted, the same words from
// compatible servers) and changing the provider's RequestShape so the next call leaves that part
// out: drop `temperature` or `reasoning_effort`, swap `max_tokens` and `max_completion_tokens`,
// step the structured output down schema -> object -> off, stop marking the prompt cache. Pure.
//
// Each adaptation has a key; a provider applies each key at most once per process and shares
// it through an AdaptationStore (Redis), whose keys apply_adaptation replays.
#pragma once

#include <optional>
#include <string>

#include "core/provider/http_client.h"
#include "core/provider/provider_config.h"
#include "core/provider/request_shape.h"

namespace llmeval::provider {

struct Adaptation {
  std::string key;      // "temperature", "max_tokens", "json_schema", ...: what was refused
  std::string change;   // what llmeval does now, e.g. "no longer sends temperature"
  std::string setting;  // the provider config setting that avoids the refused call
};

// The adaptation a refusal calls for, already applied to `shape`; nullopt when the response is
// not such a refusal, names a part this shape does not send, or names one llmeval cannot drop
// (the 400 then stays an error).
std::optional<Adaptation> adapt_to_refusal(const HttpResponse& response, ProviderType type, RequestShape& shape);

// Whether the response is a 400 refusing some request parameter (adaptable or not).
bool is_refusal(const HttpResponse& response);

// Applies an adaptation by its key (recorded by another process); nullopt for an unknown key or
// one that changes nothing for this shape.
std::optional<Adaptation> apply_adaptation(const std::string& key, ProviderType type, RequestShape& shape);

}  // namespace llmeval::provider
