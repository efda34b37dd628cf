#include "core/provider/json_api_provider.h"

#include <chrono>
#include <exception>
#include <utility>

#include "core/provider/rate_limit_headers.h"

namespace llmeval::provider {
namespace {

Result<CompletionResponse> map_reply(const Result<HttpResponse>& result, const ProviderIdentity& identity,
                                     const WireFormat& wire) {
  if (!result) return result.error();  // transport errors pass through unchanged
  const HttpResponse& response = result.value();
  auto now = std::chrono::system_clock::now();
  if (response.status < 200 || response.status >= 300) {
    Error error = error_from_status(response, identity.context(), now);
    // A 429 without Retry-After may still say in its rate-limit headers when to come back.
    if (error.kind == ErrorKind::kRateLimited && !error.retry_after) {
      error.retry_after = rate_limit_exhausted_for(response, now);
    }
    return error;
  }
  // Content-Type is not checked: the body is. Self-hosted OpenAI-compatible servers and proxies
  // send completions as text/plain or with no type at all, and refusing a valid completion over
  // a header would fail runs that work. A body that is not a completion (an HTML page from a
  // gateway, a cut-off reply) is refused by map_ok whatever its type says.
  try {
    Result<CompletionResponse> mapped = wire.map_ok(response, identity);
    if (mapped.ok()) mapped.value().exhausted_for = rate_limit_exhausted_for(response, now);
    return mapped;
  } catch (const std::exception& e) {  // never let an exception escape into the HTTP client
    return Error{ErrorKind::kServer, "provider " + identity.name + " returned an unusable reply: " + e.what()};
  }
}

class JsonApiProvider final : public Provider {
 public:
  JsonApiProvider(HttpClient& http, const ProviderConfig& config, WireFormat wire)
      : http_(http),
        url_(config.base_url + wire.path),
        // Shared with in-flight callbacks, so a reply that arrives after the provider is gone
        // still maps safely.
        state_(std::make_shared<const State>(
            State{ProviderIdentity{config.name, config.model, config.api_key_env, config.api_key}, std::move(wire)})) {}

  const std::string& name() const override { return state_->identity.name; }
  const std::string& model() const override { return state_->identity.model; }

  void complete(const CompletionRequest& request, CompletionCallback callback) override {
    HttpRequest http_request;
    http_request.url = url_;
    http_request.headers = state_->wire.headers;
    http_request.body = state_->wire.build_body(request, state_->identity.model);
    http_request.timeout = request.timeout;
    http_.send(std::move(http_request), [state = state_, callback = std::move(callback)](Result<HttpResponse> result) {
      callback(map_reply(result, state->identity, state->wire));
    });
  }

 private:
  struct State {
    ProviderIdentity identity;
    WireFormat wire;
  };
  HttpClient& http_;
  std::string url_;
  std::shared_ptr<const State> state_;
};

}  // namespace

std::int64_t int_field(const nlohmann::json& object, const char* field) {
  auto it = object.find(field);
  return it != object.end() && it->is_number() ? it->get<std::int64_t>() : 0;
}

std::string take_model(nlohmann::json& reply, const std::string& configured) {
  auto model = reply.find("model");
  if (model == reply.end() || !model->is_string() || model->get_ref<const std::string&>().empty()) return configured;
  return std::move(model->get_ref<std::string&>());
}

std::unique_ptr<Provider> make_json_api_provider(HttpClient& http, const ProviderConfig& config, WireFormat wire) {
  return std::make_unique<JsonApiProvider>(http, config, std::move(wire));
}

}  // namespace llmeval::provider
