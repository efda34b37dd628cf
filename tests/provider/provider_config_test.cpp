#include "core/provider/provider_config.h"

#include <catch2/catch.hpp>

#include <string>

using namespace std::chrono_literals;
using llmeval::ErrorKind;
using llmeval::provider::parse_provider_config;
using llmeval::provider::parse_provider_spec;
using llmeval::provider::ProviderConfig;
using llmeval::provider::ProviderType;
using nlohmann::json;

namespace {

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

}  // namespace

TEST_CASE("to_string names each provider type", "[provider]") {
  CHECK(std::string(to_string(ProviderType::kOpenAI)) == "openai");
  CHECK(std::string(to_string(ProviderType::kAnthropic)) == "anthropic");
  CHECK(std::string(to_string(ProviderType::kSim)) == "sim");
}

TEST_CASE("apply_type_defaults fills name, base_url and api_key_env per type", "[provider]") {
  ProviderConfig openai;
  apply_type_defaults(openai);
  CHECK(openai.name == "openai");
  CHECK(openai.base_url == "https://api.openai.com/v1");
  CHECK(openai.api_key_env == "OPENAI_API_KEY");

  ProviderConfig anthropic;
  anthropic.type = ProviderType::kAnthropic;
  anthropic.name = "backup";
  apply_type_defaults(anthropic);
  CHECK(anthropic.name == "backup");
  CHECK(anthropic.base_url == "https://api.anthropic.com");
  CHECK(anthropic.api_key_env == "ANTHROPIC_API_KEY");

  ProviderConfig sim;
  sim.type = ProviderType::kSim;
  apply_type_defaults(sim);
  CHECK(sim.name == "sim");
  CHECK(sim.model == "sim");
  CHECK(sim.api_key_env.empty());
}

TEST_CASE("parse_provider_spec accepts the documented forms", "[provider]") {
  SECTION("openai:MODEL") {
    auto config = parse_provider_spec("openai:gpt-4o-mini");
    REQUIRE(config.ok());
    CHECK(config.value().type == ProviderType::kOpenAI);
    CHECK(config.value().name == "openai");
    CHECK(config.value().model == "gpt-4o-mini");
    CHECK(config.value().base_url == "https://api.openai.com/v1");
    CHECK(config.value().api_key_env == "OPENAI_API_KEY");
  }
  SECTION("openai:MODEL@BASE_URL strips trailing slashes") {
    auto config = parse_provider_spec("openai:llama3.1:8b@http://localhost:11434/v1/");
    REQUIRE(config.ok());
    CHECK(config.value().model == "llama3.1:8b");
    CHECK(config.value().base_url == "http://localhost:11434/v1");
  }
  SECTION("anthropic:MODEL@BASE_URL") {
    auto config = parse_provider_spec("anthropic:claude-3-5-haiku-latest@https://proxy.example.com");
    REQUIRE(config.ok());
    CHECK(config.value().type == ProviderType::kAnthropic);
    CHECK(config.value().name == "anthropic");
    CHECK(config.value().base_url == "https://proxy.example.com");
    CHECK(config.value().api_key_env == "ANTHROPIC_API_KEY");
  }
  SECTION("an '@' inside a model id does not split it") {
    auto config = parse_provider_spec("anthropic:claude-3-5-sonnet@20240620");
    REQUIRE(config.ok());
    CHECK(config.value().model == "claude-3-5-sonnet@20240620");
    CHECK(config.value().base_url == "https://api.anthropic.com");
  }
  SECTION("sim and sim:anything") {
    for (const char* spec : {"sim", "sim:", "sim:whatever"}) {
      auto config = parse_provider_spec(spec);
      REQUIRE(config.ok());
      CHECK(config.value().type == ProviderType::kSim);
      CHECK(config.value().name == "sim");
      CHECK(config.value().model == "sim");
    }
  }
}

TEST_CASE("parse_provider_spec errors name the accepted forms", "[provider]") {
  const std::string forms =
      "use openai:MODEL[@BASE_URL], anthropic:MODEL[@BASE_URL], azure:DEPLOYMENT@https://RESOURCE.openai.azure.com "
      "or sim";
  SECTION("unknown type") {
    auto config = parse_provider_spec("foo:bar");
    REQUIRE_FALSE(config.ok());
    CHECK(config.error().kind == ErrorKind::kBadRequest);
    CHECK(config.error().message == "provider \"foo:bar\": unknown type \"foo\"; " + forms);
  }
  SECTION("missing model") {
    for (const char* spec : {"openai", "openai:", "anthropic:@https://x.example"}) {
      auto config = parse_provider_spec(spec);
      REQUIRE_FALSE(config.ok());
      CHECK(contains(config.error().message, "missing model; " + forms));
    }
  }
  SECTION("empty spec") {
    auto config = parse_provider_spec("");
    REQUIRE_FALSE(config.ok());
    CHECK(contains(config.error().message, forms));
  }
  SECTION("URL without a scheme") {
    auto config = parse_provider_spec("openai:gpt-4o@localhost:8000/v1");
    REQUIRE_FALSE(config.ok());
    CHECK(config.error().message ==
          "provider \"openai:gpt-4o@localhost:8000/v1\": base URL \"localhost:8000/v1\" must start with http:// "
          "or https://");
  }
  SECTION("URL without a host") {
    auto config = parse_provider_spec("openai:gpt-4o@https://");
    REQUIRE_FALSE(config.ok());
    CHECK(contains(config.error().message, "has no host"));
  }
}

TEST_CASE("parse_provider_config reads a full config entry", "[provider]") {
  json entry = json::parse(R"({"name": "primary", "type": "openai", "model": "gpt-4o-mini",
      "base_url": "https://api.openai.com/v1/", "api_key_env": "MY_KEY", "rpm": 500, "tpm": 200000,
      "burst_ms": 200, "timeout_ms": 5000, "price": {"input_per_mtok": 0.15, "output_per_mtok": 0.60}})");
  auto config = parse_provider_config(entry);
  REQUIRE(config.ok());
  const ProviderConfig& c = config.value();
  CHECK(c.name == "primary");
  CHECK(c.type == ProviderType::kOpenAI);
  CHECK(c.model == "gpt-4o-mini");
  CHECK(c.base_url == "https://api.openai.com/v1");
  CHECK(c.api_key_env == "MY_KEY");
  CHECK(c.api_key.empty());
  CHECK(c.rpm == 500);
  CHECK(c.tpm == 200000);
  REQUIRE(c.burst.has_value());
  CHECK(*c.burst == 200ms);
  REQUIRE(c.timeout.has_value());
  CHECK(*c.timeout == 5000ms);
  REQUIRE(c.price.has_value());
  CHECK(c.price->input_per_mtok == Approx(0.15));
  CHECK(c.price->output_per_mtok == Approx(0.60));
}

TEST_CASE("parse_provider_config applies defaults", "[provider]") {
  auto config = parse_provider_config(json::parse(R"({"type": "anthropic", "model": "claude-3-5-haiku-latest"})"));
  REQUIRE(config.ok());
  CHECK(config.value().name == "anthropic");
  CHECK(config.value().base_url == "https://api.anthropic.com");
  CHECK(config.value().api_key_env == "ANTHROPIC_API_KEY");
  CHECK(config.value().rpm == 0);
  CHECK(config.value().tpm == 0);
  CHECK_FALSE(config.value().timeout.has_value());
  CHECK_FALSE(config.value().price.has_value());

  auto sim = parse_provider_config(json::parse(R"({"type": "sim", "name": "dry"})"));
  REQUIRE(sim.ok());
  CHECK(sim.value().name == "dry");
  CHECK(sim.value().model == "sim");
}

TEST_CASE("parse_provider_config errors name the bad field", "[provider]") {
  auto error_of = [](const char* text) {
    auto config = parse_provider_config(json::parse(text));
    REQUIRE_FALSE(config.ok());
    CHECK(config.error().kind == ErrorKind::kBadRequest);
    return config.error().message;
  };
  CHECK(error_of(R"([1])") == "provider entry: must be a JSON object");
  CHECK(error_of(R"({"name": "p", "model": "m"})") ==
        "provider \"p\": field \"type\" is required: \"openai\", \"anthropic\", \"azure\" or \"sim\"");
  CHECK(error_of(R"({"name": "p", "type": "foo", "model": "m"})") ==
        "provider \"p\": field \"type\" has unknown value \"foo\"; use \"openai\", \"anthropic\", \"azure\" or \"sim\"");
  CHECK(error_of(R"({"name": "p", "type": "openai"})") == "provider \"p\": field \"model\" is required for type openai");
  CHECK(error_of(R"({"name": "p", "type": "openai", "model": 4})") == "provider \"p\": field \"model\" must be a string");
  CHECK(error_of(R"({"type": "openai", "model": "m", "rpm": -1})") ==
        "provider entry: field \"rpm\" must be a non-negative integer");
  CHECK(error_of(R"({"type": "openai", "model": "m", "tpm": "lots"})") ==
        "provider entry: field \"tpm\" must be a non-negative integer");
  CHECK(error_of(R"({"type": "openai", "model": "m", "rpm": 1.5})") ==
        "provider entry: field \"rpm\" must be a non-negative integer");
  CHECK(error_of(R"({"type": "openai", "model": "m", "burst_ms": 0})") ==
        "provider entry: field \"burst_ms\" must be a positive integer");
  CHECK(error_of(R"({"type": "openai", "model": "m", "timeout_ms": 0})") ==
        "provider entry: field \"timeout_ms\" must be a positive integer");
  CHECK(contains(error_of(R"({"type": "openai", "model": "m", "base_url": "api.openai.com"})"),
                 "must start with http:// or https://"));
  CHECK(contains(error_of(R"({"type": "openai", "model": "m", "price": 3})"), "field \"price\" must be an object"));
  CHECK(error_of(R"({"type": "openai", "model": "m", "price": {"input_per_mtok": -1}})") ==
        "provider entry: field \"price.input_per_mtok\" must be a non-negative number");
  CHECK(contains(error_of(R"({"type": "openai", "model": "m", "price": {"input": 1}})"),
                 "field \"price.input\" is unknown"));
  CHECK(contains(error_of(R"({"type": "openai", "model": "m", "tmp": 5})"), "field \"tmp\" is unknown"));
  CHECK(contains(error_of(R"({"type": "openai", "model": "m", "name": "has space"})"), "field \"name\" must be"));
}

TEST_CASE("parse_provider_config accepts whole numbers written as floats", "[provider]") {
  auto config = parse_provider_config(json::parse(R"({"type": "openai", "model": "m", "rpm": 500.0, "tpm": 1e5})"));
  REQUIRE(config.ok());
  CHECK(config.value().rpm == 500);
  CHECK(config.value().tpm == 100000);
}

TEST_CASE("parse_provider_config never accepts a key in the config file", "[provider]") {
  const std::string secret = "sk-live-DO-NOT-PRINT-123";
  SECTION("an api_key field is refused and its value is not echoed") {
    json entry = {{"name", "primary"}, {"type", "openai"}, {"model", "m"}, {"api_key", secret}};
    auto config = parse_provider_config(entry);
    REQUIRE_FALSE(config.ok());
    CHECK(config.error().kind == ErrorKind::kBadRequest);
    CHECK(config.error().message ==
          "provider \"primary\": field \"api_key\" is not allowed: keys come only from the environment variable "
          "named by api_key_env, never from the config file");
    CHECK_FALSE(contains(config.error().message, secret));
  }
  SECTION("even an empty one") {
    auto config = parse_provider_config(json::parse(R"({"type": "sim", "api_key": ""})"));
    REQUIRE_FALSE(config.ok());
    CHECK(contains(config.error().message, "field \"api_key\" is not allowed"));
  }
  SECTION("a key pasted into api_key_env is refused without echoing it") {
    json entry = {{"type", "openai"}, {"model", "m"}, {"api_key_env", secret}};
    auto config = parse_provider_config(entry);
    REQUIRE_FALSE(config.ok());
    CHECK(contains(config.error().message, "field \"api_key_env\" must be the name of an environment variable"));
    CHECK_FALSE(contains(config.error().message, secret));
  }
}
