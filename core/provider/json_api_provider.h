// JsonApiProvider: what every HTTP JSON judge API shares — one POST per completion with fixed
// headers, non-2xx statuses mapped through http_status.h, transport errors passed through,
// and no exception ever escaping into the HttpClient — around a vendor's WireFormat (its
// request body and its 2xx reply). openai_provider.cpp and anthropic_provider.cpp supply those.
// `http` must outlive the provider; replies that arrive after it is gone still map safely.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "core/provider/http_client.h"
#include "core/provider/http_status.h"
#include "core/provider/provider.h"
#include "core/provider/provider_config.h"

namespace llmeval::provider {

// Who is asking, for reply mapping and messages. Never printed whole: api_key is a secret.
struct ProviderIdentity {
  std::string name;
  std::string model;
  std::string api_key_env;
  std::string api_key;
  ReplyContext context() const { return ReplyContext{name, api_key_env, api_key}; }
};

struct WireFormat {
  std::string path;  // appended to base_url: "/chat/completions", "/v1/messages"
  Headers headers;   // sent with every request (content type, auth, version)
  std::string (*build_body)(const CompletionRequest& request, const std::string& model);
  // Maps a 2xx reply; may throw (caught and reported as kServer).
  Result<CompletionResponse> (*map_ok)(const HttpResponse& response, const ProviderIdentity& identity);
};

std::unique_ptr<Provider> make_json_api_provider(HttpClient& http, const ProviderConfig& config, WireFormat wire);

// Helpers for map_ok functions.
// object[field] as an integer, or 0 when it is missing or not a number (usage counts).
std::int64_t int_field(const nlohmann::json& object, const char* field);
// The reply's "model" (moved out), or `configured` when the reply names none.
std::string take_model(nlohmann::json& reply, const std::string& configured);

}  // namespace llmeval::provider
