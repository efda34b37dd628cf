// JsonApiProvider: what every HTTP JSON judge API shares — one POST per completion with fixed
// headers, non-2xx statuses mapped through http_status.h, transport errors passed through,
// and no exception ever escaping into the HttpClient — around a vendor's WireFormat (its
// request body and its 2xx reply). openai_provider.cpp and anthropic_provider.cpp supply those.
//
// It also keeps the provider's RequestShape and adapts it when the API refuses a part of the
// request (param_adaptation.h): the refused call is sent again at once with the part adapted,
// unseen by the caller (it is not a retry), and one warning names the part and the config
// setting that avoids it. So that this costs one call per part, not one per row, a provider's
// calls go out one at a time until one is answered with anything but a 400 (a success, and
// also a 5xx or a timeout: calls must not queue in single file behind a failing provider);
// then all at once. With an
// AdaptationStore, adaptations other processes learned are loaded before the first call and
// new ones are recorded.
//
// `http` (and `store`) must outlive the provider; replies that arrive after it is gone still map
// safely, and calls it still held are dropped.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "core/provider/adaptation_store.h"
#include "core/provider/http_client.h"
#include "core/provider/http_status.h"
#include "core/provider/provider.h"
#include "core/provider/provider_config.h"
#include "core/provider/request_shape.h"

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
  std::string url;  // where completions are POSTed
  Headers headers;  // sent with every request (content type, auth, version, config headers)
  std::string (*build_body)(const CompletionRequest& request, const RequestShape& shape, const std::string& model);
  // Maps a 2xx reply; may throw (caught and reported as kServer).
  Result<CompletionResponse> (*map_ok)(const HttpResponse& response, const ProviderIdentity& identity);
  // Its batch API, if any (Provider::batch_request): kOpenAiLine puts the body under "body" of a
  // line whose "url" is batch_url; kAnthropicParams under "params".
  enum class Batch { kNone, kOpenAiLine, kAnthropicParams };
  Batch batch = Batch::kNone;
  std::string batch_url;
  // The body's "model" in a batch element when it is not the provider's model: Azure's batch
  // lines name the global-batch deployment there (openai_provider.cpp). Empty: the model.
  std::string batch_model;
};

std::unique_ptr<Provider> make_json_api_provider(HttpClient& http, const ProviderConfig& config, WireFormat wire,
                                                 AdaptationStore* store = nullptr);

// The store key of a provider: its API, URL and model (or deployment), so that every process
// calling the same model at the same place shares what it learned.
std::string adaptation_key(const ProviderConfig& config);

// Helpers for map_ok functions.
// object[field] as an integer, or 0 when it is missing or not a number (usage counts).
std::int64_t int_field(const nlohmann::json& object, const char* field);
// object[outer][inner] as an integer, or 0 (usage details).
std::int64_t nested_int_field(const nlohmann::json& object, const char* outer, const char* inner);
// The reply's "model" (moved out), or `configured` when the reply names none.
std::string take_model(nlohmann::json& reply, const std::string& configured);
// The verdict's JSON schema: {"reason": string, "score": one of the scale's whole numbers}, or for a
// pairwise request {"reason": string, "winner": "A", "B" or "tie"};
// both required, nothing else — reason first, so that the model explains before it scores.
void append_verdict_schema(std::string& body, const CompletionRequest& request);

}  // namespace llmeval::provider
