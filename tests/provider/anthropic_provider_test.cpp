#include "core/provider/anthropic_provider.h"

#include <catch2/catch.hpp>

#include <optional>
#include <string>

#include "tests/fakes/fake_clock.h"
#include "tests/fakes/fake_event_loop.h"
#include "tests/fakes/fake_http_client.h"

using namespace std::chrono_literals;
using llmeval::ErrorKind;
using llmeval::Result;
using llmeval::provider::CompletionRequest;
using llmeval::provider::CompletionResponse;
using llmeval::provider::make_anthropic_provider;
using llmeval::provider::ProviderConfig;
using llmeval::provider::ProviderType;
using llmeval::testing::FakeHttpClient;
using nlohmann::json;

namespace {

constexpr const char* kKey = "sk-ant-api03-SECRET-xyz";

ProviderConfig config(std::string api_key = kKey) {
  ProviderConfig c;
  c.type = ProviderType::kAnthropic;
  c.name = "backup";
  c.model = "claude-haiku-4-5";
  c.api_key = std::move(api_key);
  return c;
}

CompletionRequest request() {
  CompletionRequest r;
  r.system = "You are a judge.";
  r.messages = {{"user", "Score this."}};
  r.max_tokens = 200;
  r.timeout = 2500ms;
  return r;
}

Result<CompletionResponse> complete(FakeHttpClient& http, const CompletionRequest& req = request(),
                                    ProviderConfig cfg = config()) {
  auto provider = make_anthropic_provider(http, std::move(cfg));
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

const char* kMessage = R"({"id": "msg_1", "type": "message", "role": "assistant", "model": "claude-3-5-haiku-20241022",
  "content": [{"type": "text", "text": "{\"score\": 5, "}, {"type": "text", "text": "\"reason\": \"ok\"}"}],
  "stop_reason": "end_turn",
  "usage": {"input_tokens": 300, "output_tokens": 20, "cache_read_input_tokens": 7}})";

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

}  // namespace

TEST_CASE("Anthropic provider sends a messages request", "[provider]") {
  FakeHttpClient http;
  http.push_response(200, kMessage);
  auto result = complete(http);
  REQUIRE(result.ok());
  const auto& sent = http.last_request();
  CHECK(sent.method == "POST");
  CHECK(sent.url == "https://api.anthropic.com/v1/messages");
  CHECK(sent.timeout == 2500ms);
  CHECK(header(sent, "x-api-key") == kKey);
  CHECK(header(sent, "anthropic-version") == "2023-06-01");
  CHECK(header(sent, "content-type") == "application/json");
  CHECK(header(sent, "Authorization") == "<absent>");

  json body = json::parse(sent.body);
  CHECK(body["model"] == "claude-haiku-4-5");
  CHECK(body["system"] == "You are a judge.");  // too short for the cache: a plain string
  CHECK(body["max_tokens"] == 200);
  CHECK(body["temperature"] == 0.0);
  CHECK(body["messages"] == json::array({{{"role", "user"}, {"content", "Score this."}}}));
  CHECK_FALSE(body.contains("response_format"));
  // Haiku 4.5 takes structured outputs: the verdict schema, reason first, score from the scale.
  json schema = body["output_config"]["format"]["schema"];
  CHECK(body["output_config"]["format"]["type"] == "json_schema");
  CHECK(schema["required"] == json::array({"reason", "score"}));
  CHECK(schema["properties"]["score"]["enum"] == json::array({1, 2, 3, 4, 5}));
  CHECK(schema["additionalProperties"] == false);
  CHECK_FALSE(schema["properties"]["score"].contains("minimum"));  // Anthropic refuses numeric bounds
}

TEST_CASE("Anthropic provider request variants", "[provider]") {
  FakeHttpClient http;
  http.push_response(200, kMessage);
  SECTION("no system prompt: no system field") {
    CompletionRequest req = request();
    req.system.clear();
    complete(http, req);
    CHECK_FALSE(json::parse(http.last_request().body).contains("system"));
  }
  SECTION("a custom base URL") {
    ProviderConfig cfg = config();
    cfg.base_url = "http://127.0.0.1:9000";
    complete(http, request(), cfg);
    CHECK(http.last_request().url == "http://127.0.0.1:9000/v1/messages");
  }
}

TEST_CASE("Anthropic provider maps a message", "[provider]") {
  FakeHttpClient http;
  SECTION("text blocks concatenate; cache tokens count as input") {
    http.push_response(200, kMessage);
    auto result = complete(http);
    REQUIRE(result.ok());
    CHECK(result.value().text == R"({"score": 5, "reason": "ok"})");
    CHECK(result.value().model == "claude-3-5-haiku-20241022");
    CHECK(result.value().usage.input == 307);
    CHECK(result.value().usage.output == 20);
  }
  SECTION("no model in the reply: the configured one") {
    http.push_response(200, R"({"content": [{"type": "text", "text": "hi"}]})");
    auto result = complete(http);
    REQUIRE(result.ok());
    CHECK(result.value().model == "claude-haiku-4-5");
  }
}

TEST_CASE("Anthropic provider turns a 200 that is not a message into kServer", "[provider]") {
  FakeHttpClient http;
  SECTION("not JSON") {
    http.push_response(200, "oops");
    auto result = complete(http);
    CHECK(result.error().kind == ErrorKind::kServer);
    CHECK(result.error().message == "provider backup returned a reply that is not JSON (HTTP 200): oops");
  }
  SECTION("an error body") {
    http.push_response(200, R"({"type": "error", "error": {"type": "api_error", "message": "Internal"}})");
    auto result = complete(http);
    CHECK(result.error().kind == ErrorKind::kServer);
    CHECK(result.error().message == "provider backup returned an error instead of a completion (HTTP 200): Internal");
  }
  SECTION("no text block") {
    http.push_response(200, R"({"content": [{"type": "tool_use", "id": "x"}], "stop_reason": "end_turn"})");
    auto result = complete(http);
    CHECK(result.error().kind == ErrorKind::kServer);
    CHECK(result.error().message == "provider backup returned no completion text (HTTP 200): stop_reason end_turn");
  }
  SECTION("no text block because the cap was reached: a truncated completion") {
    http.push_response(200, R"({"content": [{"type": "thinking", "thinking": "hm", "signature": "s"}],
      "stop_reason": "max_tokens", "usage": {"input_tokens": 10, "output_tokens": 200}})");
    auto result = complete(http);
    REQUIRE(result.ok());
    CHECK(result.value().truncated);
    CHECK(result.value().text.empty());
  }
}

TEST_CASE("Anthropic provider maps error statuses", "[provider]") {
  FakeHttpClient http;
  SECTION("401 names ANTHROPIC_API_KEY, never the key") {
    http.push_response(401, R"({"type": "error", "error": {"type": "authentication_error", "message": "invalid x-api-key"}})");
    auto result = complete(http);
    CHECK(result.error().kind == ErrorKind::kAuth);
    CHECK(result.error().message ==
          "provider backup rejected the API key (HTTP 401): invalid x-api-key; check ANTHROPIC_API_KEY");
    CHECK_FALSE(contains(result.error().message, kKey));
  }
  SECTION("529 overloaded is kServer") {
    http.push_response(529, R"({"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}})");
    auto result = complete(http);
    CHECK(result.error().kind == ErrorKind::kServer);
    CHECK(result.error().message == "provider backup is overloaded (HTTP 529): Overloaded");
  }
  SECTION("429 with retry-after seconds") {
    http.push_response(429, R"({"type": "error", "error": {"type": "rate_limit_error", "message": "slow"}})",
                       {{"retry-after", "12"}});
    auto result = complete(http);
    CHECK(result.error().kind == ErrorKind::kRateLimited);
    CHECK(result.error().retry_after == 12000ms);
  }
  SECTION("400 keeps the vendor's message") {
    http.push_response(400, R"({"type": "error", "error": {"type": "invalid_request_error",
                                 "message": "messages: roles must alternate"}})");
    auto result = complete(http);
    CHECK(result.error().kind == ErrorKind::kBadRequest);
    CHECK(result.error().message == "provider backup refused the request (HTTP 400): messages: roles must alternate");
  }
  SECTION("408") {
    http.push_response(408, "");
    CHECK(complete(http).error().kind == ErrorKind::kTimeout);
  }
  SECTION("transport errors pass through") {
    http.push_error(ErrorKind::kIo, "body larger than 8 MiB");
    auto result = complete(http);
    CHECK(result.error().kind == ErrorKind::kIo);
    CHECK(result.error().message == "body larger than 8 MiB");
  }
}

TEST_CASE("A reply arriving after the provider is gone still maps safely", "[provider]") {
  llmeval::testing::FakeClock clock;
  llmeval::testing::FakeEventLoop loop(clock);
  FakeHttpClient http(&loop);
  http.push_response(200, kMessage);
  std::optional<Result<CompletionResponse>> got;
  {
    auto provider = make_anthropic_provider(http, config());
    provider->complete(request(), [&](Result<CompletionResponse> r) { got.emplace(std::move(r)); });
    CHECK_FALSE(got.has_value());
  }
  loop.run_until_idle();
  REQUIRE(got.has_value());
  REQUIRE(got->ok());
  CHECK(got->value().model == "claude-3-5-haiku-20241022");
}
