// RequestShape: what a provider puts in each request besides the conversation — which token-cap
// field, whether a temperature, a reasoning effort, which structured-output form, whether the
// stable prompt prefix is marked for caching. Resolved once per provider from its config and
// its model's family (initial_shape in model_families.h), then changed at run time when the API
// refuses one of those parts (param_adaptation.h).
#pragma once

#include <optional>
#include <string>

namespace llmeval::provider {

// The name of the token cap in an OpenAI-style body. Anthropic always takes `max_tokens`.
enum class TokenParam { kMaxTokens, kMaxCompletionTokens };
const char* to_string(TokenParam param);

// schema: a strict JSON schema of the verdict (each API's structured-output form); object:
// OpenAI's json_object (on Anthropic, which has none, the same as off); off: the prompt alone
// asks for JSON.
enum class JsonMode { kSchema, kObject, kOff };
const char* to_string(JsonMode mode);

struct RequestShape {
  TokenParam token_param = TokenParam::kMaxTokens;
  std::optional<double> temperature;  // nullopt: not sent
  std::string reasoning_effort;       // empty: not sent
  JsonMode json_mode = JsonMode::kObject;
  bool prompt_cache = true;  // Anthropic: mark the stable prefix with cache_control when long enough
  int min_cache_tokens = 1024;
  // The token cap: max_tokens when set (the provider's own), else the request's (the judge's)
  // raised to min_tokens (reasoning models). A truncated reply's retry doubles it
  // (CompletionRequest::cap_scale).
  int max_tokens = 0;
  int min_tokens = 0;

  int cap_for(int requested, int cap_scale) const {
    int cap = max_tokens > 0 ? max_tokens : (requested > min_tokens ? requested : min_tokens);
    return cap * (cap_scale > 1 ? cap_scale : 1);
  }
};

}  // namespace llmeval::provider
