// Providers as batch API clients: a request becomes one batch element under its custom_id with
// exactly the body an online call would send (OpenAI: a batch input line for
// /v1/chat/completions; Anthropic: a requests[] element with "params"), and a batch result's
// body maps exactly as an online reply does. Shapes from the vendors' references: OpenAI's batch
// input line {"custom_id", "method", "url", "body"}; Azure's the same with "url"
// "/chat/completions" and the global-batch deployment as the body's "model" (Microsoft Learn,
// Azure OpenAI batch how-to); Anthropic's requests[] {"custom_id", "params"}
// (platform.claude.com, Create a Message Batch).
#include <catch2/catch.hpp>

#include <string>

#include <nlohmann/json.hpp>

#include "core/provider/anthropic_provider.h"
#include "core/provider/openai_provider.h"
#include "tests/fakes/fake_http_client.h"

using namespace std::chrono_literals;
using llmeval::provider::CompletionRequest;
using llmeval::provider::ProviderConfig;
using llmeval::provider::ProviderType;
using llmeval::testing::FakeHttpClient;
using nlohmann::json;

namespace {

CompletionRequest judge_request() {
  CompletionRequest r;
  r.system = "You are a judge.";
  r.messages = {{"user", "Score this."}};
  r.max_tokens = 200;
  r.timeout = 2500ms;
  return r;
}

ProviderConfig config(ProviderType type, const std::string& model) {
  ProviderConfig c;
  c.type = type;
  c.name = "judge";
  c.model = model;
  c.api_key = "sk-SECRET-123";
  return c;
}

}  // namespace

TEST_CASE("OpenAI provider: a batch input line carries the online body", "[provider][batch]") {
  FakeHttpClient http;
  auto provider = llmeval::provider::make_openai_provider(http, config(ProviderType::kOpenAI, "gpt-4.1-mini"));
  const std::string line = provider->batch_request(judge_request(), "l3c0s0j0o0");
  json parsed = json::parse(line);
  CHECK(parsed.at("custom_id") == "l3c0s0j0o0");
  CHECK(parsed.at("method") == "POST");
  CHECK(parsed.at("url") == "/v1/chat/completions");
  // The body is the one the online call would send: the request identity ends with it.
  const std::string identity = provider->request_identity(judge_request());
  CHECK(json::parse(identity.substr(identity.rfind('\n') + 1)) == parsed.at("body"));
  CHECK(parsed.at("body").at("model") == "gpt-4.1-mini");
  CHECK(line.find("SECRET") == std::string::npos);  // keys travel in headers, never in the file
  CHECK(line.find('\n') == std::string::npos);      // one JSONL line

  auto mapped = provider->batch_result(
      R"({"id":"chatcmpl-1","object":"chat.completion","model":"gpt-4.1-mini-2025-04-14","choices":[{"index":0,"message":{"role":"assistant","content":"{\"reason\":\"ok\",\"score\":4}"},"finish_reason":"stop"}],"usage":{"prompt_tokens":50,"completion_tokens":9,"total_tokens":59}})");
  REQUIRE(mapped.ok());
  CHECK(mapped.value().text == R"({"reason":"ok","score":4})");
  CHECK(mapped.value().usage.input == 50);
  CHECK(mapped.value().usage.output == 9);
  CHECK_FALSE(provider->batch_result("<html>not a completion</html>").ok());
}

TEST_CASE("Anthropic provider: a Message Batches element carries the online body as params", "[provider][batch]") {
  FakeHttpClient http;
  auto provider = llmeval::provider::make_anthropic_provider(http,
                                                             config(ProviderType::kAnthropic, "claude-haiku-4-5"));
  json parsed = json::parse(provider->batch_request(judge_request(), "l9c1s0j2o1"));
  CHECK(parsed.at("custom_id") == "l9c1s0j2o1");
  CHECK_FALSE(parsed.contains("method"));
  const std::string identity = provider->request_identity(judge_request());
  CHECK(json::parse(identity.substr(identity.rfind('\n') + 1)) == parsed.at("params"));
  CHECK(parsed.at("params").at("max_tokens").get<int>() >= 1);  // batches refuse max_tokens 0

  auto mapped = provider->batch_result(
      R"({"id":"msg_1","type":"message","role":"assistant","model":"claude-haiku-4-5","content":[{"type":"text","text":"{\"reason\":\"ok\",\"score\":5}"}],"stop_reason":"end_turn","usage":{"input_tokens":40,"output_tokens":8}})");
  REQUIRE(mapped.ok());
  CHECK(mapped.value().text == R"({"reason":"ok","score":5})");
  CHECK(mapped.value().usage.input == 40);
}

TEST_CASE("Azure provider: a global batch line names the deployment as its model", "[provider][batch]") {
  FakeHttpClient http;
  ProviderConfig azure = config(ProviderType::kAzure, "gpt-4.1-mini");  // the deployment's model
  azure.base_url = "https://example.openai.azure.com";
  azure.deployment = "judge-batch";
  azure.api_version = "2024-10-21";
  auto provider = llmeval::provider::make_azure_provider(http, azure);
  const std::string line = provider->batch_request(judge_request(), "l1c0s0j0o0");
  json parsed = json::parse(line);
  CHECK(parsed.at("custom_id") == "l1c0s0j0o0");
  CHECK(parsed.at("method") == "POST");
  CHECK(parsed.at("url") == "/chat/completions");  // as the batch's "endpoint" names it
  CHECK(parsed.at("body").at("model") == "judge-batch");
  // Otherwise the online body: the request identity ends with it (whose model is the model).
  const std::string identity = provider->request_identity(judge_request());
  json online = json::parse(identity.substr(identity.rfind('\n') + 1));
  CHECK(online.at("model") == "gpt-4.1-mini");
  online["model"] = "judge-batch";
  CHECK(online == parsed.at("body"));
  CHECK(line.find("SECRET") == std::string::npos);
  CHECK(line.find('\n') == std::string::npos);

  auto mapped = provider->batch_result(
      R"({"id":"chatcmpl-1","object":"chat.completion","model":"gpt-4.1-mini-2025-04-14","choices":[{"index":0,"message":{"role":"assistant","content":"{\"reason\":\"ok\",\"score\":3}"},"finish_reason":"stop"}],"usage":{"prompt_tokens":50,"completion_tokens":9,"total_tokens":59}})");
  REQUIRE(mapped.ok());
  CHECK(mapped.value().text == R"({"reason":"ok","score":3})");
  CHECK(mapped.value().usage.output == 9);
}
