#include "core/provider/json_api_provider.h"

#include <chrono>
#include <deque>
#include <exception>
#include <set>
#include <utility>

#include "core/common/json_text.h"
#include "core/common/logging.h"
#include "core/provider/model_families.h"
#include "core/provider/param_adaptation.h"
#include "core/provider/rate_limit_headers.h"

namespace llmeval::provider {
namespace {

bool rate_limit_header(std::string_view name) {
  return name.rfind("x-ratelimit-", 0) == 0 || name.rfind("anthropic-ratelimit-", 0) == 0;
}

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
    if (mapped.ok()) {
      mapped.value().exhausted_for = rate_limit_exhausted_for(response, now);
      for (const auto& [name, value] : response.headers) {
        if (rate_limit_header(name)) mapped.value().rate_limit_headers.emplace_back(name, value);
      }
    }
    return mapped;
  } catch (const std::exception& e) {  // never let an exception escape into the HTTP client
    return Error{ErrorKind::kServer, "provider " + identity.name + " returned an unusable reply: " + e.what()};
  }
}

// Everything a call's reply needs, shared with in-flight callbacks, so a reply that arrives
// after the provider is gone still maps safely (and then sends nothing more).
struct State {
  ProviderIdentity identity;
  ProviderType type;
  WireFormat wire;
  RequestShape shape;
  std::string store_key;
  HttpClient* http = nullptr;         // null once the provider is gone
  AdaptationStore* store = nullptr;
  std::shared_ptr<spdlog::logger> log = logger("provider");
  // The first-call gate: until a call has been answered with anything but a 400, one call is
  // out at a time, so a refused part costs one call, not one per row. (Not only a 2xx opens
  // it: behind a provider that times out or fails, held calls would wait in single file.)
  bool loaded = false;  // the store's adaptations are in (or there is no store)
  bool loading = false;
  bool open = false;
  int generation = 0;   // bumped by each adaptation: calls sent before it used an older shape
  int out = 0;             // calls sent, not answered
  struct Held {
    CompletionRequest request;
    CompletionCallback callback;
  };
  std::deque<Held> held;
  std::set<std::string> adapted;      // adaptation keys applied, each once
  std::vector<std::string> changes;   // their descriptions, in order
};

void send(const std::shared_ptr<State>& state, CompletionRequest request, CompletionCallback callback);

bool bad_request(const Result<HttpResponse>& result) {
  return result.ok() && (result.value().status == 400 || result.value().status == 422);
}

// Sends what the gate lets through now: everything once the gate is open, else one call while
// none is out.
void release(const std::shared_ptr<State>& state) {
  while (state->http != nullptr && state->loaded && !state->held.empty() && (state->open || state->out == 0)) {
    State::Held next = std::move(state->held.front());
    state->held.pop_front();
    send(state, std::move(next.request), std::move(next.callback));
  }
}

void record(State& state, const Adaptation& adaptation, bool from_store) {
  state.adapted.insert(adaptation.key);
  state.changes.push_back(adaptation.change + (from_store ? " (learned by another process)" : ""));
}

// A model the family table did not know to reason (an Azure deployment's own name, a new model)
// says so in its usage: from then on it gets a reasoning model's token cap, before its short
// cap cuts more replies off.
void learn_from_usage(State& state, const CompletionResponse& response) {
  if (response.usage.reasoning <= 0 || state.shape.min_tokens >= kReasoningMinTokens) return;
  state.shape.min_tokens = kReasoningMinTokens;
  state.changes.push_back("raises its token cap to at least " + std::to_string(kReasoningMinTokens) +
                          " (the model reasons)");
  state.log->warn("[provider={}] model {} reasons (its reply used {} reasoning tokens); llmeval raises its token cap "
                  "to at least {}. Set \"max_tokens\" in this provider's config to choose the cap.",
                  state.identity.name, state.identity.model, response.usage.reasoning, kReasoningMinTokens);
}

void on_result(const std::shared_ptr<State>& state, int sent_generation, CompletionRequest request,
               CompletionCallback callback, Result<HttpResponse> result) {
  --state->out;
  if (bad_request(result) && state->http != nullptr) {
    RequestShape shape = state->shape;
    std::optional<Adaptation> adaptation = adapt_to_refusal(result.value(), state->type, shape);
    if (adaptation && state->adapted.count(adaptation->key) == 0) {
      state->shape = shape;
      ++state->generation;
      record(*state, *adaptation, false);
      state->log->warn(
          "[provider={}] the API refused \"{}\" for model {} (HTTP {}); from now on llmeval {}, and it sends the call "
          "again. "
          "Set {} in this provider's config to skip the refused call.",
          state->identity.name, adaptation->key, state->identity.model, result.value().status, adaptation->change,
          adaptation->setting);
      if (state->store != nullptr) state->store->save(state->store_key, adaptation->key);
      send(state, std::move(request), std::move(callback));  // a resend, not a retry
      return;
    }
    if (sent_generation < state->generation && is_refusal(result.value())) {
      // Sent before an adaptation that may cure it (calls in flight together when the gate
      // had opened early): once more with the shape as it is now.
      send(state, std::move(request), std::move(callback));
      return;
    }
  }
  if (!bad_request(result)) state->open = true;
  Result<CompletionResponse> mapped = map_reply(result, state->identity, state->wire);
  if (mapped.ok()) learn_from_usage(*state, mapped.value());
  release(state);
  callback(std::move(mapped));
}

void send(const std::shared_ptr<State>& state, CompletionRequest request, CompletionCallback callback) {
  HttpRequest http_request;
  http_request.url = state->wire.url;
  http_request.headers = state->wire.headers;
  http_request.body = state->wire.build_body(request, state->shape, state->identity.model);
  http_request.timeout = request.timeout;
  ++state->out;
  state->http->send(std::move(http_request), [state, generation = state->generation, request = std::move(request),
                                              callback = std::move(callback)](Result<HttpResponse> result) mutable {
    on_result(state, generation, std::move(request), std::move(callback), std::move(result));
  });
}

void load_adaptations(const std::shared_ptr<State>& state) {
  state->loading = true;
  state->store->load(state->store_key, [state](std::vector<std::string> keys) {
    for (const auto& key : keys) {
      if (state->adapted.count(key) != 0) continue;
      if (auto adaptation = apply_adaptation(key, state->type, state->shape)) {
        record(*state, *adaptation, true);
        state->log->info("[provider={}] {}, as another process learned", state->identity.name, adaptation->change);
      }
    }
    state->loaded = true;
    release(state);
  });
}

class JsonApiProvider final : public Provider {
 public:
  JsonApiProvider(HttpClient& http, const ProviderConfig& config, WireFormat wire, AdaptationStore* store)
      : timeout_(config.timeout), state_(std::make_shared<State>()) {
    state_->identity = ProviderIdentity{config.name, config.model, config.api_key_env, config.api_key};
    state_->type = config.type;
    state_->wire = std::move(wire);
    state_->shape = initial_shape(config);
    state_->store_key = adaptation_key(config);
    state_->http = &http;
    state_->store = store;
    state_->loaded = store == nullptr;
  }

  ~JsonApiProvider() override {
    state_->http = nullptr;  // replies still out map and answer; nothing more is sent
    state_->held.clear();
  }

  JsonApiProvider(const JsonApiProvider&) = delete;
  JsonApiProvider& operator=(const JsonApiProvider&) = delete;

  const std::string& name() const override { return state_->identity.name; }
  const std::string& model() const override { return state_->identity.model; }
  std::string json_mode() const override { return to_string(state_->shape.json_mode); }
  std::vector<std::string> adaptations() const override { return state_->changes; }
  std::string request_identity(const CompletionRequest& request) const override {
    return state_->wire.url + "\n" + state_->identity.model + "\n" +
           state_->wire.build_body(request, state_->shape, state_->identity.model);
  }
  std::string batch_request(const CompletionRequest& request, std::string_view custom_id) const override {
    const WireFormat& wire = state_->wire;
    if (wire.batch == WireFormat::Batch::kNone) return {};
    std::string element = "{\"custom_id\":";
    append_json_string(element, custom_id);
    if (wire.batch == WireFormat::Batch::kOpenAiLine) {
      element += ",\"method\":\"POST\",\"url\":";
      append_json_string(element, wire.batch_url);
      element += ",\"body\":";
    } else {
      element += ",\"params\":";
    }
    element += wire.build_body(request, state_->shape,
                               wire.batch_model.empty() ? state_->identity.model : wire.batch_model);
    element += '}';
    return element;
  }
  Result<CompletionResponse> batch_result(std::string body) const override {
    HttpResponse response;
    response.status = 200;
    response.body = std::move(body);
    try {
      return state_->wire.map_ok(response, state_->identity);
    } catch (const std::exception& e) {
      return Error{ErrorKind::kServer, "provider " + state_->identity.name + " returned an unusable batch result: " +
                                           e.what()};
    }
  }
  int token_cap(const CompletionRequest& request) const override {
    return state_->shape.cap_for(request.max_tokens, request.cap_scale);
  }

  void complete(const CompletionRequest& request, CompletionCallback callback) override {
    CompletionRequest copy = request;
    if (timeout_) copy.timeout = *timeout_;  // this provider's own attempt timeout
    state_->held.push_back({std::move(copy), std::move(callback)});
    if (!state_->loaded && !state_->loading) {
      load_adaptations(state_);
      return;
    }
    release(state_);
  }

 private:
  std::optional<std::chrono::milliseconds> timeout_;
  std::shared_ptr<State> state_;
};

}  // namespace

std::string adaptation_key(const ProviderConfig& config) {
  return std::string(to_string(config.type)) + "|" + config.base_url + "|" +
         (config.deployment.empty() ? config.model : config.deployment);
}

std::int64_t int_field(const nlohmann::json& object, const char* field) {
  auto it = object.find(field);
  return it != object.end() && it->is_number() ? it->get<std::int64_t>() : 0;
}

std::int64_t nested_int_field(const nlohmann::json& object, const char* outer, const char* inner) {
  auto it = object.find(outer);
  return it != object.end() && it->is_object() ? int_field(*it, inner) : 0;
}

std::string take_model(nlohmann::json& reply, const std::string& configured) {
  auto model = reply.find("model");
  if (model == reply.end() || !model->is_string() || model->get_ref<const std::string&>().empty()) return configured;
  return std::move(model->get_ref<std::string&>());
}

void append_verdict_schema(std::string& body, const CompletionRequest& request) {
  if (request.pairwise) {
    body += R"({"type":"object","properties":{"reason":{"type":"string"},"winner":{"type":"string","enum":["A","B","tie"]}},"required":["reason","winner"],"additionalProperties":false})";
    return;
  }
  body += R"({"type":"object","properties":{"reason":{"type":"string"},"score":{"type":"integer","enum":[)";
  for (int score = request.score_min; score <= request.score_max; ++score) {
    if (score != request.score_min) body += ',';
    append_json_number(body, static_cast<std::int64_t>(score));
  }
  body += R"(]}},"required":["reason","score"],"additionalProperties":false})";
}

std::unique_ptr<Provider> make_json_api_provider(HttpClient& http, const ProviderConfig& config, WireFormat wire,
                                                 AdaptationStore* store) {
  for (const auto& header : config.headers) wire.headers.push_back(header);
  return std::make_unique<JsonApiProvider>(http, config, std::move(wire), store);
}

}  // namespace llmeval::provider
