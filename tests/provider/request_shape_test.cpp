// Today's judge models: the family table, the request shape it gives each provider, and the
// run-time adaptation to a 400 that refuses a parameter (with the vendors' own error bodies,
// as quoted in their public bug reports), including the first-call gate that keeps it to one
// extra call per parameter.
#include <catch2/catch.hpp>

#include <optional>
#include <string>
#include <vector>

#include "core/provider/model_families.h"
#include "core/provider/openai_provider.h"
#include "core/provider/anthropic_provider.h"
#include "core/provider/param_adaptation.h"
#include "tests/fakes/fake_clock.h"
#include "tests/fakes/fake_event_loop.h"
#include "tests/fakes/fake_http_client.h"

using namespace llmeval::provider;
using llmeval::Result;
using llmeval::testing::FakeClock;
using llmeval::testing::FakeEventLoop;
using llmeval::testing::FakeHttpClient;
using nlohmann::json;

namespace {

ProviderConfig provider(ProviderType type, std::string model, std::string base_url = "") {
  ProviderConfig config;
  config.type = type;
  config.model = std::move(model);
  config.base_url = std::move(base_url);
  if (type == ProviderType::kAzure) config.deployment = config.model;
  apply_type_defaults(config);
  return config;
}

HttpResponse response(long status, std::string body) {
  HttpResponse r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

// Vendors' bodies (OpenAI: fish2018/YPrompt#26, OpenHands#4131, langchain#31490; Anthropic:
// earendil-works/pi#7961).
constexpr const char* kOpenAiMaxTokens =
    R"({"error":{"message":"Unsupported parameter: 'max_tokens' is not supported with this model. Use 'max_completion_tokens' instead.","type":"invalid_request_error","param":"max_tokens","code":"unsupported_parameter"}})";
constexpr const char* kOpenAiTemperature =
    R"({"error":{"message":"Unsupported value: 'temperature' does not support 0 with this model. Only the default (1) value is supported.","type":"invalid_request_error","param":"temperature","code":"unsupported_value"}})";
constexpr const char* kOpenAiJsonSchema =
    R"({"error":{"message":"Invalid parameter: 'response_format' of type 'json_schema' is not supported with this model. Learn more about supported models at the Structured Outputs guide: https://platform.openai.com/docs/guides/structured-outputs","type":"invalid_request_error","param":null,"code":null}})";
constexpr const char* kAnthropicTemperature =
    R"({"type":"error","error":{"type":"invalid_request_error","message":"`temperature` is deprecated for this model."},"request_id":"req_1"})";

constexpr const char* kCompletion =
    R"({"choices":[{"message":{"content":"{\"reason\":\"ok\",\"score\":4}"},"finish_reason":"stop"}],"usage":{"prompt_tokens":2000,"completion_tokens":700,"prompt_tokens_details":{"cached_tokens":1920},"completion_tokens_details":{"reasoning_tokens":600}}})";

constexpr const char* kPlainCompletion =
    R"({"choices":[{"message":{"content":"{\"reason\":\"ok\",\"score\":4}"},"finish_reason":"stop"}],"usage":{"prompt_tokens":20,"completion_tokens":7}})";

CompletionRequest judge_request() {
  CompletionRequest r;
  r.system = "You are a judge. Reply in JSON.";
  r.messages = {{"user", "Score this."}};
  r.max_tokens = 256;
  return r;
}

}  // namespace

TEST_CASE("The family table knows today's judge models", "[provider][families]") {
  struct Case {
    ProviderType type;
    const char* model;
    bool refuses_temperature;
    bool reasoning;
    bool structured_output;
  };
  const std::vector<Case> cases = {
      {ProviderType::kOpenAI, "gpt-4o-mini", false, false, true},
      {ProviderType::kOpenAI, "gpt-4.1", false, false, true},
      {ProviderType::kOpenAI, "gpt-5-mini", true, true, true},
      {ProviderType::kOpenAI, "GPT-5.1", true, true, true},
      {ProviderType::kOpenAI, "o4-mini", true, true, true},
      {ProviderType::kOpenAI, "o3", true, true, true},
      {ProviderType::kOpenAI, "openai/o1", true, true, true},
      {ProviderType::kOpenAI, "gpt-4-turbo", false, false, false},
      {ProviderType::kOpenAI, "llama3.1:8b", false, false, true},
      {ProviderType::kAzure, "gpt-5-mini", true, true, true},
      {ProviderType::kAnthropic, "claude-sonnet-4-5", false, false, true},
      {ProviderType::kAnthropic, "claude-sonnet-4-5-20250929", false, false, true},
      {ProviderType::kAnthropic, "claude-haiku-4-5", false, false, true},
      {ProviderType::kAnthropic, "claude-opus-4-6", false, false, true},
      {ProviderType::kAnthropic, "claude-opus-4-7", true, false, true},
      {ProviderType::kAnthropic, "claude-opus-4-8", true, false, true},
      {ProviderType::kAnthropic, "claude-sonnet-5", true, false, true},
      {ProviderType::kAnthropic, "claude-opus-5", true, false, true},
      {ProviderType::kAnthropic, "claude-opus-5-5", true, true, true},
      {ProviderType::kAnthropic, "claude-fable-5", true, true, true},
      {ProviderType::kAnthropic, "us.anthropic.claude-opus-4-7-v1:0", true, false, true},
      {ProviderType::kAnthropic, "claude-3-5-haiku-latest", false, false, false},
      {ProviderType::kAnthropic, "claude-sonnet-4-0", false, false, false},
  };
  for (const auto& c : cases) {
    INFO(c.model);
    ModelTraits traits = traits_of(c.type, c.model);
    CHECK(traits.refuses_temperature == c.refuses_temperature);
    CHECK(traits.reasoning == c.reasoning);
    CHECK(traits.structured_output == c.structured_output);
  }
  CHECK(traits_of(ProviderType::kAnthropic, "claude-opus-4-7").min_cache_tokens == 4096);
  CHECK(traits_of(ProviderType::kAnthropic, "claude-sonnet-4-5").min_cache_tokens == 1024);
}

TEST_CASE("Each provider starts from its family's request shape", "[provider][families]") {
  SECTION("OpenAI's own API: max_completion_tokens and a schema for every model") {
    RequestShape shape = initial_shape(provider(ProviderType::kOpenAI, "gpt-4o-mini"));
    CHECK(shape.token_param == TokenParam::kMaxCompletionTokens);
    CHECK(shape.temperature == 0.0);
    CHECK(shape.json_mode == JsonMode::kSchema);
    CHECK(shape.cap_for(256, 1) == 256);
  }
  SECTION("a reasoning model anywhere: no temperature, the new cap name, a larger cap") {
    RequestShape shape = initial_shape(provider(ProviderType::kOpenAI, "gpt-5-mini", "http://127.0.0.1:9/v1"));
    CHECK(shape.token_param == TokenParam::kMaxCompletionTokens);
    CHECK_FALSE(shape.temperature);
    CHECK(shape.json_mode == JsonMode::kObject);  // a compatible server: json_object
    CHECK(shape.cap_for(256, 1) == kReasoningMinTokens);
    CHECK(shape.cap_for(256, 2) == 2 * kReasoningMinTokens);
    CHECK(shape.cap_for(5000, 1) == 5000);
  }
  SECTION("an unknown model on a compatible server (Ollama, vLLM): max_tokens, temperature 0") {
    RequestShape shape = initial_shape(provider(ProviderType::kOpenAI, "llama3.1:8b", "http://127.0.0.1:11434/v1"));
    CHECK(shape.token_param == TokenParam::kMaxTokens);
    CHECK(shape.temperature == 0.0);
    CHECK(shape.json_mode == JsonMode::kObject);
  }
  SECTION("Azure, by type or by host: max_completion_tokens and a schema") {
    CHECK(initial_shape(provider(ProviderType::kAzure, "judge", "https://r.openai.azure.com")).token_param ==
          TokenParam::kMaxCompletionTokens);
    RequestShape v1 = initial_shape(provider(ProviderType::kOpenAI, "gpt-4o", "https://r.openai.azure.com/openai/v1"));
    CHECK(v1.token_param == TokenParam::kMaxCompletionTokens);
    CHECK(v1.json_mode == JsonMode::kSchema);
    CHECK(provider(ProviderType::kOpenAI, "gpt-4o", "https://r.openai.azure.com/openai/v1").api_key_env ==
          "AZURE_OPENAI_API_KEY");
  }
  SECTION("Claude: temperature 0 up to Opus 4.6, none from Opus 4.7 on") {
    CHECK(initial_shape(provider(ProviderType::kAnthropic, "claude-sonnet-4-5")).temperature == 0.0);
    CHECK_FALSE(initial_shape(provider(ProviderType::kAnthropic, "claude-opus-4-7")).temperature);
    CHECK(initial_shape(provider(ProviderType::kAnthropic, "claude-opus-4-7")).json_mode == JsonMode::kSchema);
    CHECK(initial_shape(provider(ProviderType::kAnthropic, "claude-3-5-haiku-latest")).json_mode == JsonMode::kOff);
  }
  SECTION("the config wins over the family") {
    ProviderConfig config = provider(ProviderType::kOpenAI, "gpt-5-mini");
    config.token_param = TokenParam::kMaxTokens;
    config.temperature = std::optional<double>{1.0};
    config.json_mode = JsonMode::kOff;
    config.max_tokens = 900;
    RequestShape shape = initial_shape(config);
    CHECK(shape.token_param == TokenParam::kMaxTokens);
    CHECK(shape.temperature == 1.0);
    CHECK(shape.json_mode == JsonMode::kOff);
    CHECK(shape.cap_for(256, 1) == 900);
    config = provider(ProviderType::kOpenAI, "gpt-4o-mini");
    config.temperature = std::optional<double>{};  // null: never sent
    CHECK_FALSE(initial_shape(config).temperature);
  }
}

TEST_CASE("A 400 naming a refused parameter adapts the shape once", "[provider][adaptation]") {
  RequestShape shape;
  shape.token_param = TokenParam::kMaxTokens;
  shape.temperature = 0.0;
  shape.json_mode = JsonMode::kSchema;
  shape.reasoning_effort = "low";

  auto max_tokens = adapt_to_refusal(response(400, kOpenAiMaxTokens), ProviderType::kOpenAI, shape);
  REQUIRE(max_tokens);
  CHECK(max_tokens->key == "max_tokens");
  CHECK(max_tokens->setting == "\"token_param\": \"max_completion_tokens\"");
  CHECK(shape.token_param == TokenParam::kMaxCompletionTokens);
  // Already adapted: the same refusal changes nothing more.
  CHECK_FALSE(adapt_to_refusal(response(400, kOpenAiMaxTokens), ProviderType::kOpenAI, shape));

  auto temperature = adapt_to_refusal(response(400, kOpenAiTemperature), ProviderType::kOpenAI, shape);
  REQUIRE(temperature);
  CHECK(temperature->setting == "\"temperature\": null");
  CHECK_FALSE(shape.temperature);

  auto schema = adapt_to_refusal(response(400, kOpenAiJsonSchema), ProviderType::kOpenAI, shape);
  REQUIRE(schema);
  CHECK(schema->key == "json_schema");
  CHECK(shape.json_mode == JsonMode::kObject);

  // Anthropic names the field in its message.
  RequestShape claude;
  claude.temperature = 0.0;
  auto deprecated = adapt_to_refusal(response(400, kAnthropicTemperature), ProviderType::kAnthropic, claude);
  REQUIRE(deprecated);
  CHECK(deprecated->key == "temperature");
  CHECK_FALSE(claude.temperature);

  claude.json_mode = JsonMode::kSchema;
  auto extra = adapt_to_refusal(
      response(400, R"({"type":"error","error":{"type":"invalid_request_error","message":"output_config.format: Extra inputs are not permitted"}})"),
      ProviderType::kAnthropic, claude);
  REQUIRE(extra);
  CHECK(claude.json_mode == JsonMode::kOff);

  SECTION("other 400s stay errors") {
    RequestShape other;
    other.temperature = 0.0;
    CHECK_FALSE(adapt_to_refusal(
        response(400, R"({"error":{"message":"max_tokens is too large: 100000. This model supports at most 16384 completion tokens","type":"invalid_request_error","param":"max_tokens","code":"invalid_value"}})"),
        ProviderType::kOpenAI, other));
    CHECK_FALSE(adapt_to_refusal(response(400, R"({"error":{"message":"context length exceeded"}})"),
                                 ProviderType::kOpenAI, other));
    CHECK_FALSE(adapt_to_refusal(response(500, kOpenAiTemperature), ProviderType::kOpenAI, other));
    CHECK_FALSE(adapt_to_refusal(response(400, "<html>bad request</html>"), ProviderType::kOpenAI, other));
    CHECK(other.temperature == 0.0);
  }
}

TEST_CASE("A provider resends a refused call once, and holds the others until one succeeds",
          "[provider][adaptation]") {
  FakeClock clock;
  FakeEventLoop loop(clock);
  FakeHttpClient http(&loop);  // answers on the loop, as curl does
  ProviderConfig config = provider(ProviderType::kOpenAI, "acme-judge-1", "http://127.0.0.1:9/v1");
  auto judge = make_openai_provider(http, config);
  http.push_response(400, kOpenAiMaxTokens);
  http.push_response(400, kOpenAiTemperature);
  for (int i = 0; i < 5; ++i) http.push_response(200, kPlainCompletion);

  std::vector<Result<CompletionResponse>> results;
  for (int i = 0; i < 5; ++i) {
    judge->complete(judge_request(), [&](Result<CompletionResponse> r) { results.push_back(std::move(r)); });
  }
  CHECK(http.requests().size() == 1);  // the first call goes out alone
  loop.run_until_idle();

  REQUIRE(results.size() == 5);
  for (const auto& r : results) CHECK(r.ok());
  // 5 calls, 2 refusals: 7 requests, the refusals never reach the caller.
  REQUIRE(http.requests().size() == 7);
  json first = json::parse(http.requests()[0].body);
  CHECK(first.contains("max_tokens"));
  CHECK(first.contains("temperature"));
  json third = json::parse(http.requests()[2].body);
  CHECK(third.contains("max_completion_tokens"));
  CHECK_FALSE(third.contains("max_tokens"));
  CHECK_FALSE(third.contains("temperature"));
  for (std::size_t i = 3; i < http.requests().size(); ++i) CHECK(http.requests()[i].body == http.requests()[2].body);
  REQUIRE(judge->adaptations().size() == 2);
  CHECK(judge->adaptations()[0] == "sends max_completion_tokens instead of max_tokens");
}

TEST_CASE("A model that turns out to reason gets a reasoning model's cap", "[provider][adaptation]") {
  FakeHttpClient http;
  auto judge = make_openai_provider(http, provider(ProviderType::kAzure, "my-deployment", "https://r.openai.azure.com"));
  http.push_response(200, R"({"choices":[{"message":{"content":""},"finish_reason":"length"}],"usage":{"prompt_tokens":10,"completion_tokens":256,"completion_tokens_details":{"reasoning_tokens":256}}})");
  http.push_response(200, kPlainCompletion);
  judge->complete(judge_request(), [](Result<CompletionResponse>) {});
  CHECK(json::parse(http.last_request().body)["max_completion_tokens"] == 256);
  judge->complete(judge_request(), [](Result<CompletionResponse>) {});
  CHECK(json::parse(http.last_request().body)["max_completion_tokens"] == kReasoningMinTokens);
  REQUIRE(judge->adaptations().size() == 1);
}

TEST_CASE("Providers read usage details and cut-off replies", "[provider]") {
  FakeHttpClient http;
  SECTION("OpenAI: cached prompt tokens and reasoning tokens") {
    auto judge = make_openai_provider(http, provider(ProviderType::kOpenAI, "gpt-5-mini"));
    http.push_response(200, kCompletion);
    std::optional<Result<CompletionResponse>> got;
    judge->complete(judge_request(), [&](Result<CompletionResponse> r) { got.emplace(std::move(r)); });
    REQUIRE(got->ok());
    CHECK(got->value().usage.input == 2000);
    CHECK(got->value().usage.cached_input == 1920);
    CHECK(got->value().usage.output == 700);
    CHECK(got->value().usage.reasoning == 600);
    CHECK_FALSE(got->value().truncated);
  }
  SECTION("OpenAI: empty content with finish_reason length is a truncated completion") {
    auto judge = make_openai_provider(http, provider(ProviderType::kOpenAI, "o4-mini"));
    http.push_response(200, R"({"choices":[{"message":{"content":""},"finish_reason":"length"}],"usage":{"prompt_tokens":10,"completion_tokens":2048}})");
    std::optional<Result<CompletionResponse>> got;
    judge->complete(judge_request(), [&](Result<CompletionResponse> r) { got.emplace(std::move(r)); });
    REQUIRE(got->ok());
    CHECK(got->value().truncated);
  }
  SECTION("Anthropic: cache reads and writes are input tokens, priced apart") {
    auto judge = make_anthropic_provider(http, provider(ProviderType::kAnthropic, "claude-sonnet-4-5"));
    http.push_response(200, R"({"content":[{"type":"text","text":"{\"reason\":\"ok\",\"score\":5}"}],"stop_reason":"end_turn","usage":{"input_tokens":21,"output_tokens":40,"cache_creation_input_tokens":100,"cache_read_input_tokens":1800}})");
    std::optional<Result<CompletionResponse>> got;
    judge->complete(judge_request(), [&](Result<CompletionResponse> r) { got.emplace(std::move(r)); });
    REQUIRE(got->ok());
    CHECK(got->value().usage.input == 1921);
    CHECK(got->value().usage.cached_input == 1800);
    CHECK(got->value().usage.cache_write == 100);
  }
  SECTION("Anthropic: a long system prompt is marked for the cache, a short one is not") {
    ProviderConfig config = provider(ProviderType::kAnthropic, "claude-sonnet-4-5");
    auto judge = make_anthropic_provider(http, config);
    CompletionRequest long_prompt = judge_request();
    long_prompt.system = std::string(1024 * 4, 'x');
    http.push_response(200, R"({"content":[{"type":"text","text":"{}"}],"stop_reason":"end_turn"})");
    judge->complete(long_prompt, [](Result<CompletionResponse>) {});
    json body = json::parse(http.last_request().body);
    REQUIRE(body["system"].is_array());
    CHECK(body["system"][0]["cache_control"] == json{{"type", "ephemeral"}});
    http.push_response(200, R"({"content":[{"type":"text","text":"{}"}],"stop_reason":"end_turn"})");
    judge->complete(judge_request(), [](Result<CompletionResponse>) {});
    CHECK(json::parse(http.last_request().body)["system"].is_string());
  }
}

TEST_CASE("Azure deployments: path, api-version and api-key", "[provider]") {
  FakeHttpClient http;
  ProviderConfig config = provider(ProviderType::kAzure, "judge-gpt5", "https://res.openai.azure.com");
  config.api_key = "azure-secret";
  config.headers = {{"X-Gateway", "team-a"}};
  auto judge = make_azure_provider(http, config);
  http.push_response(200, kCompletion);
  judge->complete(judge_request(), [](Result<CompletionResponse>) {});
  const HttpRequest& sent = http.last_request();
  CHECK(sent.url == std::string("https://res.openai.azure.com/openai/deployments/judge-gpt5/chat/completions"
                                "?api-version=") + kAzureApiVersion);
  bool api_key = false, gateway = false, bearer = false;
  for (const auto& [name, value] : sent.headers) {
    api_key = api_key || (name == "api-key" && value == "azure-secret");
    gateway = gateway || (name == "X-Gateway" && value == "team-a");
    bearer = bearer || name == "Authorization";
  }
  CHECK(api_key);
  CHECK(gateway);
  CHECK_FALSE(bearer);
  CHECK(json::parse(sent.body).contains("max_completion_tokens"));
}
