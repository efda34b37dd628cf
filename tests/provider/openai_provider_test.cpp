#include "core/provider/openai_provider.h"

#include <catch2/catch.hpp>

#include <optional>
#include <string>

#include "tests/fakes/fake_http_client.h"

using namespace std::chrono_literals;
using llmeval::ErrorKind;
using llmeval::Result;
using llmeval::provider::CompletionRequest;
using llmeval::provider::CompletionResponse;
using llmeval::provider::make_openai_provider;
using llmeval::provider::ProviderConfig;
using llmeval::testing::FakeHttpClient;
using nlohmann::json;

namespace {

constexpr const char* kKey = "sk-proj-VERY-SECRET-abc123";

ProviderConfig config(std::string api_key = kKey) {
  ProviderConfig c;
  c.name = "primary";
  c.model = "gpt-4o-mini";
  c.api_key = std::move(api_key);
  c.temperature = std::optional<double>{0.25};
  return c;
}

CompletionRequest request() {
  CompletionRequest r;
  r.system = "You are a judge.";
  r.messages = {{"user", "Score this."}, {"assistant", "not json"}, {"user", "Only JSON please."}};
  r.max_tokens = 128;
  r.timeout = 1500ms;
  return r;
}

// Sends one request and returns what the callback got (the fake answers synchronously).
Result<CompletionResponse> complete(FakeHttpClient& http, const CompletionRequest& req = request(),
                                    ProviderConfig cfg = config()) {
  auto provider = make_openai_provider(http, std::move(cfg));
  std::optional<Result<CompletionResponse>> got;
  int calls = 0;
  provider->complete(req, [&](Result<CompletionResponse> result) {
    ++calls;
    got.emplace(std::move(result));
  });
  REQUIRE(calls == 1);
  return std::move(*got);
}

std::string header(const llmeval::provider::HttpRequest& request, const std::string& name) {
  for (const auto& [n, v] : request.headers) {
    if (n == name) return v;
  }
  return "<absent>";
}

const char* kCompletion = R"({"id": "chatcmpl-1", "object": "chat.completion", "model": "gpt-4o-mini-2024-07-18",
  "choices": [{"index": 0, "message": {"role": "assistant", "content": "{\"score\": 4}"}, "finish_reason": "stop"}],
  "usage": {"prompt_tokens": 321, "completion_tokens": 12, "total_tokens": 333}})";

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

}  // namespace

TEST_CASE("OpenAI provider sends a chat completions request", "[provider]") {
  FakeHttpClient http;
  http.push_response(200, kCompletion);
  auto result = complete(http);
  REQUIRE(result.ok());
  REQUIRE(http.requests().size() == 1);
  const auto& sent = http.last_request();
  CHECK(sent.method == "POST");
  CHECK(sent.url == "https://api.openai.com/v1/chat/completions");
  CHECK(sent.timeout == 1500ms);
  CHECK(header(sent, "Authorization") == std::string("Bearer ") + kKey);
  CHECK(header(sent, "Content-Type") == "application/json");

  json body = json::parse(sent.body);
  CHECK(body["model"] == "gpt-4o-mini");
  CHECK(body["temperature"] == 0.25);
  // OpenAI's own API: the current cap name for every model, and a strict verdict schema.
  CHECK(body["max_completion_tokens"] == 128);
  CHECK_FALSE(body.contains("max_tokens"));
  CHECK(body["response_format"]["type"] == "json_schema");
  CHECK(body["response_format"]["json_schema"]["strict"] == true);
  json schema = body["response_format"]["json_schema"]["schema"];
  CHECK(sent.body.find(R"("properties":{"reason":{"type":"string"},"score":)") != std::string::npos);
  CHECK(schema["required"] == json::array({"reason", "score"}));
  CHECK(schema["additionalProperties"] == false);
  REQUIRE(body["messages"].size() == 4);
  CHECK(body["messages"][0] == json{{"role", "system"}, {"content", "You are a judge."}});
  CHECK(body["messages"][1] == json{{"role", "user"}, {"content", "Score this."}});
  CHECK(body["messages"][2] == json{{"role", "assistant"}, {"content", "not json"}});
  CHECK(body["messages"][3] == json{{"role", "user"}, {"content", "Only JSON please."}});
}

TEST_CASE("OpenAI provider request variants", "[provider]") {
  FakeHttpClient http;
  http.push_response(200, kCompletion);
  CompletionRequest req = request();
  SECTION("no json mode, no system prompt") {
    req.system.clear();
    ProviderConfig cfg = config();
    cfg.json_mode = llmeval::provider::JsonMode::kOff;
    complete(http, req, cfg);
    json body = json::parse(http.last_request().body);
    CHECK_FALSE(body.contains("response_format"));
    CHECK(body["messages"].size() == 3);
    CHECK(body["messages"][0]["role"] == "user");
  }
  SECTION("a custom base URL and no key (local servers): max_tokens and json_object") {
    ProviderConfig cfg = config("");
    cfg.base_url = "http://127.0.0.1:8000/v1";
    complete(http, req, cfg);
    CHECK(http.last_request().url == "http://127.0.0.1:8000/v1/chat/completions");
    CHECK(header(http.last_request(), "Authorization") == "<absent>");
    json body = json::parse(http.last_request().body);
    CHECK(body["max_tokens"] == 128);
    CHECK(body["response_format"] == json{{"type", "json_object"}});
  }
  SECTION("invalid UTF-8 in the prompt is replaced, not thrown") {
    req.messages = {{"user", "bad \xC3( byte"}};
    auto result = complete(http, req);
    CHECK(result.ok());
    CHECK(json::accept(http.last_request().body));
  }
}

TEST_CASE("OpenAI provider maps a completion", "[provider]") {
  FakeHttpClient http;
  SECTION("text, reported model and usage") {
    http.push_response(200, kCompletion);
    auto result = complete(http);
    REQUIRE(result.ok());
    CHECK(result.value().text == R"({"score": 4})");
    CHECK(result.value().model == "gpt-4o-mini-2024-07-18");
    CHECK(result.value().usage.input == 321);
    CHECK(result.value().usage.output == 12);
    CHECK_FALSE(result.value().simulated);
  }
  SECTION("no model or usage in the reply: the configured model, zero usage") {
    http.push_response(200, R"({"choices": [{"message": {"content": "ok"}}]})");
    auto result = complete(http);
    REQUIRE(result.ok());
    CHECK(result.value().model == "gpt-4o-mini");
    CHECK(result.value().usage.input == 0);
  }
  SECTION("content as an array of text parts") {
    http.push_response(200, R"({"choices": [{"message": {"content": [{"type": "text", "text": "a"},
                                {"type": "text", "text": "b"}]}}]})");
    auto result = complete(http);
    REQUIRE(result.ok());
    CHECK(result.value().text == "ab");
  }
}

TEST_CASE("OpenAI provider turns a 200 that is not a completion into kServer", "[provider]") {
  FakeHttpClient http;
  SECTION("not JSON") {
    http.push_response(200, "<html>gateway</html>");
    auto result = complete(http);
    REQUIRE_FALSE(result.ok());
    CHECK(result.error().kind == ErrorKind::kServer);
    CHECK(result.error().message ==
          "provider primary returned a reply that is not JSON (HTTP 200): an HTML page (from a proxy or gateway in "
          "front of the API?): gateway");
  }
  SECTION("an error object") {
    http.push_response(200, R"({"error": {"message": "upstream failed", "type": "server_error"}})");
    auto result = complete(http);
    REQUIRE_FALSE(result.ok());
    CHECK(result.error().kind == ErrorKind::kServer);
    CHECK(result.error().message ==
          "provider primary returned an error instead of a completion (HTTP 200): upstream failed");
  }
  SECTION("no text") {
    http.push_response(200, R"({"choices": [{"message": {"content": null}, "finish_reason": "content_filter"}]})");
    auto result = complete(http);
    REQUIRE_FALSE(result.ok());
    CHECK(result.error().kind == ErrorKind::kServer);
    CHECK(result.error().message ==
          "provider primary returned no completion text (HTTP 200): finish_reason content_filter");
  }
  SECTION("no text because the cap was reached: a truncated completion, not an error") {
    http.push_response(200, R"({"choices": [{"message": {"content": null}, "finish_reason": "length"}]})");
    auto result = complete(http);
    REQUIRE(result.ok());
    CHECK(result.value().truncated);
  }
  SECTION("a refusal") {
    http.push_response(200, R"({"choices": [{"message": {"content": null, "refusal": "I can't"}}]})");
    auto result = complete(http);
    REQUIRE_FALSE(result.ok());
    CHECK(contains(result.error().message, "refused: I can't"));
  }
  SECTION("no choices") {
    http.push_response(200, R"({"choices": []})");
    auto result = complete(http);
    REQUIRE_FALSE(result.ok());
    CHECK(result.error().kind == ErrorKind::kServer);
  }
  SECTION("a JSON array") {
    http.push_response(200, "[]");
    CHECK(complete(http).error().kind == ErrorKind::kServer);
  }
}

TEST_CASE("OpenAI provider maps error statuses", "[provider]") {
  FakeHttpClient http;
  SECTION("401 names the variable, never the key") {
    http.push_response(401, std::string(R"({"error": {"message": "Incorrect API key provided: )") + kKey + "\"}}");
    ProviderConfig cfg = config();
    auto result = complete(http, request(), cfg);
    REQUIRE_FALSE(result.ok());
    CHECK(result.error().kind == ErrorKind::kAuth);
    CHECK(result.error().message ==
          "provider primary rejected the API key (HTTP 401): Incorrect API key provided: [redacted]; check "
          "OPENAI_API_KEY");
    CHECK_FALSE(contains(result.error().message, kKey));
  }
  SECTION("403") {
    http.push_response(403, R"({"error": {"message": "project lacks access"}})");
    CHECK(complete(http).error().kind == ErrorKind::kAuth);
  }
  SECTION("429 with retry-after-ms") {
    http.push_response(429, R"({"error": {"message": "Rate limit reached"}})",
                       {{"retry-after-ms", "750"}, {"retry-after", "1"}});
    auto result = complete(http);
    REQUIRE_FALSE(result.ok());
    CHECK(result.error().kind == ErrorKind::kRateLimited);
    CHECK(result.error().retry_after == 750ms);
  }
  SECTION("408, 500, 503, 404") {
    http.push_response(408, "");
    http.push_response(500, "");
    http.push_response(503, "");
    http.push_response(404, R"({"error": {"message": "The model `gpt-9` does not exist"}})");
    auto provider = make_openai_provider(http, config());
    std::vector<llmeval::Error> errors;
    for (int i = 0; i < 4; ++i) {
      provider->complete(request(), [&](Result<CompletionResponse> r) { errors.push_back(r.error()); });
    }
    REQUIRE(errors.size() == 4);
    CHECK(errors[0].kind == ErrorKind::kTimeout);
    CHECK(errors[1].kind == ErrorKind::kServer);
    CHECK(errors[2].kind == ErrorKind::kServer);
    CHECK(errors[3].kind == ErrorKind::kBadRequest);
    CHECK(errors[3].message == "provider primary refused the request (HTTP 404): The model `gpt-9` does not exist; check base_url "
          "and model");
  }
  SECTION("a vendor message that echoes the key is scrubbed in every status") {
    for (long status : {400L, 429L, 500L, 200L}) {
      http.push_response(status, std::string(R"({"error": {"message": "bad key )") + kKey + "\"}}");
      auto result = complete(http);
      REQUIRE_FALSE(result.ok());
      CHECK_FALSE(contains(result.error().message, kKey));
    }
    http.push_response(502, std::string("plain text with ") + kKey);
    CHECK_FALSE(contains(complete(http).error().message, kKey));
    http.push_response(200, std::string("not json ") + kKey);
    CHECK_FALSE(contains(complete(http).error().message, kKey));
  }
}

TEST_CASE("OpenAI provider passes transport errors through unchanged", "[provider]") {
  FakeHttpClient http;
  http.push_error(ErrorKind::kTimeout, "deadline of 1500ms passed");
  auto result = complete(http);
  REQUIRE_FALSE(result.ok());
  CHECK(result.error().kind == ErrorKind::kTimeout);
  CHECK(result.error().message == "deadline of 1500ms passed");

  http.push_error(ErrorKind::kConnect, "connection refused");
  CHECK(complete(http).error().kind == ErrorKind::kConnect);
}

TEST_CASE("OpenAI provider reports its name and model", "[provider]") {
  FakeHttpClient http;
  auto provider = make_openai_provider(http, config());
  CHECK(provider->name() == "primary");
  CHECK(provider->model() == "gpt-4o-mini");
  ProviderConfig unnamed;
  unnamed.model = "m";
  CHECK(make_openai_provider(http, unnamed)->name() == "openai");
}

TEST_CASE("OpenAI provider reports a used-up rate-limit budget from the reply headers", "[provider]") {
  FakeHttpClient http;
  SECTION("on a completion") {
    http.push_response(200, kCompletion, {{"x-ratelimit-remaining-requests", "0"}, {"x-ratelimit-reset-requests", "3s"}});
    auto result = complete(http);
    REQUIRE(result.ok());
    CHECK(result.value().exhausted_for == 3000ms);
  }
  SECTION("on a 429 without Retry-After") {
    http.push_response(429, R"({"error": {"message": "slow down"}})",
                       {{"x-ratelimit-remaining-tokens", "0"}, {"x-ratelimit-reset-tokens", "1m0s"}});
    auto result = complete(http);
    REQUIRE_FALSE(result.ok());
    CHECK(result.error().kind == ErrorKind::kRateLimited);
    CHECK(result.error().retry_after == 60000ms);
  }
  SECTION("not when budget remains") {
    http.push_response(200, kCompletion, {{"x-ratelimit-remaining-requests", "5"}});
    auto result = complete(http);
    REQUIRE(result.ok());
    CHECK_FALSE(result.value().exhausted_for);
  }
}
