// The OpenAI, Azure OpenAI and Anthropic BatchApi clients against the real fake provider on
// 127.0.0.1, through CurlHttpClient on a LibeventLoop: requests spooled with
// Provider::batch_request, submitted, polled with loop timers until ended, downloaded to disk
// and parsed line by line, each result mapped by Provider::batch_result. Also expiry, cancel, a
// scripted per-request fault and a wrong key. Azure's calls go to the fake's dated API
// (/openai/files, /openai/batches with ?api-version=V, api-key auth), which refuses calls
// without an api-version or an api-key, and lines whose model is not a known deployment.
#include <catch2/catch.hpp>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/batch/batch_api.h"
#include "core/common/event_loop.h"
#include "core/provider/anthropic_provider.h"
#include "core/provider/curl_http_client.h"
#include "core/provider/openai_provider.h"
#include "tests/support/fake_provider.h"
#include "tests/support/files.h"

using namespace std::chrono_literals;
using llmeval::ErrorKind;
using llmeval::LibeventLoop;
using llmeval::Result;
using llmeval::batch::BatchApi;
using llmeval::batch::BatchResult;
using llmeval::batch::BatchStatus;
using llmeval::batch::make_batch_api;
using llmeval::batch::Submitted;
using llmeval::provider::CompletionRequest;
using llmeval::provider::Provider;
using llmeval::provider::ProviderConfig;
using llmeval::provider::ProviderType;
using llmeval::testing::FakeProviderServer;
using llmeval::testing::read_lines;
using llmeval::testing::TempDir;
using llmeval::testing::write_file;

namespace {

// Starts an async call and runs the loop until its callback (at most 20 s).
template <typename T>
T await(LibeventLoop& loop, const std::function<void(std::function<void(T)>)>& start) {
  std::optional<T> out;
  start([&](T value) {
    out.emplace(std::move(value));
    loop.stop();
  });
  if (!out) {
    auto guard = loop.add_timer(20s, [&] { loop.stop(); });
    loop.run();
    loop.cancel_timer(guard);
  }
  REQUIRE(out.has_value());
  return std::move(*out);
}

// Polls retrieve() every 20 ms on a loop timer until the batch has ended (or a call fails).
Result<BatchStatus> poll_until_ended(LibeventLoop& loop, BatchApi& api, const std::string& batch_id) {
  return await<Result<BatchStatus>>(loop, [&](std::function<void(Result<BatchStatus>)> done) {
    auto tick = std::make_shared<std::function<void()>>();
    *tick = [&loop, &api, batch_id, done, tick] {
      api.retrieve(batch_id, [&loop, done, tick](Result<BatchStatus> status) {
        if (!status.ok() || status.value().ended) {
          *tick = nullptr;  // breaks the cycle
          return done(std::move(status));
        }
        loop.add_timer(20ms, [tick] {
          if (*tick) (*tick)();
        });
      });
    };
    (*tick)();
  });
}

struct Judge {
  ProviderConfig config;
  std::unique_ptr<Provider> provider;
};

// The fake's flags for every test: Azure's global-batch deployment "judge-batch" runs
// gpt-4.1-mini, so that a line naming the model instead of the deployment is refused.
std::vector<std::string> with_deployment(std::vector<std::string> flags) {
  flags.insert(flags.end(), {"--azure-deployment", "judge-batch=gpt-4.1-mini"});
  return flags;
}

ProviderConfig config_for(ProviderType type, const FakeProviderServer& server, const std::string& key) {
  ProviderConfig config;
  config.type = type;
  config.name = "judge";
  config.api_key = key;
  switch (type) {
    case ProviderType::kAzure:
      config.model = "gpt-4.1-mini";  // the deployment's model: not what its lines name
      config.deployment = "judge-batch";
      config.api_version = "2024-10-21";  // the first GA version with batch
      config.base_url = server.url("");
      break;
    case ProviderType::kAnthropic:
      config.model = "claude-fake";
      config.base_url = server.base_url_anthropic();
      break;
    default: config.model = "gpt-fake"; config.base_url = server.base_url_openai();
  }
  return config;
}

CompletionRequest request_for(const std::string& text) {
  CompletionRequest request;
  request.system = "You are a judge. Reply with JSON.";
  request.messages = {{"user", text}};
  request.max_tokens = 64;
  request.score_min = 1;
  request.score_max = 10;
  return request;
}

std::string item_text(int i) { return "Scale: 1-10\nAnswer number " + std::to_string(i) + " to judge."; }

// Writes the spool file as the runner would: prefix, elements joined by separator, suffix.
void spool(const BatchApi& api, const Provider& provider, const std::vector<std::pair<std::string, std::string>>& items,
           const std::string& path) {
  std::string out(api.spool_prefix());
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += api.spool_separator();
    std::string element = provider.batch_request(request_for(items[i].second), items[i].first);
    REQUIRE_FALSE(element.empty());
    out += element;
  }
  out += api.spool_suffix();
  write_file(path, out);
}

// Every parsed result line of a downloaded file, by custom_id; a custom_id seen twice fails.
std::map<std::string, BatchResult> parse_all(const BatchApi& api, const std::string& path) {
  std::map<std::string, BatchResult> out;
  for (const std::string& line : read_lines(path)) {
    auto result = api.parse_result_line(line);
    if (!result) continue;
    INFO(result->custom_id);
    CHECK(out.count(result->custom_id) == 0);
    out.insert_or_assign(result->custom_id, std::move(*result));
  }
  return out;
}

Result<Submitted> submit(LibeventLoop& loop, BatchApi& api, const std::string& spool_path,
                         const std::string& file_id = "") {
  return await<Result<Submitted>>(loop, [&](std::function<void(Result<Submitted>)> done) {
    api.submit(spool_path, "local-7", file_id, std::move(done));
  });
}

Result<std::int64_t> download(LibeventLoop& loop, BatchApi& api, const BatchStatus& status, const std::string& path) {
  return await<Result<std::int64_t>>(loop, [&](std::function<void(Result<std::int64_t>)> done) {
    api.download(status, path, std::move(done));
  });
}

std::unique_ptr<Provider> make_provider(llmeval::provider::HttpClient& http, const ProviderConfig& config) {
  switch (config.type) {
    case ProviderType::kAzure: return llmeval::provider::make_azure_provider(http, config);
    case ProviderType::kAnthropic: return llmeval::provider::make_anthropic_provider(http, config);
    default: return llmeval::provider::make_openai_provider(http, config);
  }
}

const char* api_name(ProviderType type) {
  return type == ProviderType::kOpenAI ? "OpenAI" : type == ProviderType::kAzure ? "Azure" : "Anthropic";
}

// OpenAI's Batch API, as OpenAI or Azure speaks it.
bool openai_style(ProviderType type) { return type != ProviderType::kAnthropic; }

constexpr ProviderType kBatchTypes[] = {ProviderType::kOpenAI, ProviderType::kAzure, ProviderType::kAnthropic};

}  // namespace

TEST_CASE("BatchApi: submit, poll, download and parse; every verdict maps like the online reply",
          "[batch][batch_api]") {
  for (ProviderType type : kBatchTypes) {
    DYNAMIC_SECTION(api_name(type)) {
      FakeProviderServer server(with_deployment({"--api-key", "k", "--batch-delay-ms", "100"}));
      TempDir dir;
      LibeventLoop loop;
      auto http = llmeval::provider::make_curl_http_client(loop, {});
      ProviderConfig config = config_for(type, server, "k");
      auto provider = make_provider(*http, config);
      auto api = make_batch_api(*http, config);
      REQUIRE(api != nullptr);

      std::vector<std::pair<std::string, std::string>> items;
      for (int i = 0; i < 4; ++i) items.emplace_back("row_" + std::to_string(i), item_text(i));
      items.emplace_back("broken", "judge this [[fake:status=500]]");
      spool(*api, *provider, items, dir.file("spool"));

      auto submitted = submit(loop, *api, dir.file("spool"));
      REQUIRE(submitted.ok());
      CHECK_FALSE(submitted.value().batch_id.empty());
      CHECK(submitted.value().file_id.empty() == (type == ProviderType::kAnthropic));

      auto status = poll_until_ended(loop, *api, submitted.value().batch_id);
      REQUIRE(status.ok());
      CHECK(status.value().ended);
      CHECK(status.value().provider_status == (openai_style(type) ? "completed" : "ended"));
      CHECK(status.value().requests_total == 5);
      CHECK(status.value().requests_done == 4);
      CHECK(status.value().requests_failed == 1);
      CHECK(status.value().failure.empty());

      auto bytes = download(loop, *api, status.value(), dir.file("results.jsonl"));
      REQUIRE(bytes.ok());
      CHECK(bytes.value() > 0);
      auto results = parse_all(*api, dir.file("results.jsonl"));
      REQUIRE(results.size() == 5);
      for (const auto& [custom_id, text] : items) {
        INFO(custom_id);
        REQUIRE(results.count(custom_id) == 1);
        const BatchResult& result = results.at(custom_id);
        if (custom_id == "broken") {
          REQUIRE_FALSE(result.body.ok());
          CHECK(result.body.error().kind == ErrorKind::kServer);
          CHECK(result.body.error().message.find("broken") != std::string::npos);
          continue;
        }
        REQUIRE(result.body.ok());
        auto verdict = provider->batch_result(result.body.value());
        REQUIRE(verdict.ok());
        // Azure: judged by the model behind the deployment the line named.
        if (type == ProviderType::kAzure) CHECK(verdict.value().model == "gpt-4.1-mini");
        auto parsed = nlohmann::json::parse(verdict.value().text);
        CHECK(parsed["score"].get<int>() >= 1);
        CHECK(parsed["score"].get<int>() <= 10);
      }
      // Not result lines.
      CHECK_FALSE(api->parse_result_line("").has_value());
      CHECK_FALSE(api->parse_result_line("not json").has_value());
      CHECK_FALSE(api->parse_result_line(R"({"result":{}})").has_value());

      auto stats = server.stats()["batch"];
      if (openai_style(type)) {
        CHECK(stats["files_uploaded"] == 1);
        CHECK(stats["openai_created"] == 1);
        CHECK(stats["file_downloads"] == 2);  // the output file, then the error file
        // Submitting again with the uploaded file's id creates a batch without uploading.
        auto again = submit(loop, *api, dir.file("spool"), submitted.value().file_id);
        REQUIRE(again.ok());
        CHECK(again.value().file_id == submitted.value().file_id);
        CHECK(server.stats()["batch"]["files_uploaded"] == 1);
        CHECK(server.stats()["batch"]["openai_created"] == 2);
      } else {
        CHECK(stats["anthropic_created"] == 1);
        CHECK(stats["results_downloads"] == 1);
        // A results_url on another host does not get the key: the configured host's
        // /v1/messages/batches/{id}/results is used instead.
        BatchStatus elsewhere = status.value();
        elsewhere.results_url = "http://localhost:1/v1/messages/batches/" + elsewhere.batch_id + "/results";
        auto again = download(loop, *api, elsewhere, dir.file("again.jsonl"));
        REQUIRE(again.ok());
        CHECK(again.value() == bytes.value());
        CHECK(server.stats()["batch"]["results_downloads"] == 2);
      }
    }
  }
}

TEST_CASE("BatchApi: an expired batch ends with every request expired", "[batch][batch_api]") {
  for (ProviderType type : kBatchTypes) {
    DYNAMIC_SECTION(api_name(type)) {
      FakeProviderServer server(with_deployment({"--batch-delay-ms", "50", "--batch-expire", "on"}));
      TempDir dir;
      LibeventLoop loop;
      auto http = llmeval::provider::make_curl_http_client(loop, {});
      ProviderConfig config = config_for(type, server, "");
      auto provider = make_provider(*http, config);
      auto api = make_batch_api(*http, config);
      spool(*api, *provider, {{"a", item_text(1)}, {"b", item_text(2)}, {"c", item_text(3)}}, dir.file("spool"));
      auto submitted = submit(loop, *api, dir.file("spool"));
      REQUIRE(submitted.ok());
      auto status = poll_until_ended(loop, *api, submitted.value().batch_id);
      REQUIRE(status.ok());
      CHECK(status.value().ended);
      if (openai_style(type)) CHECK(status.value().provider_status == "expired");
      CHECK(status.value().requests_done == 0);
      CHECK(status.value().requests_failed == 3);
      REQUIRE(download(loop, *api, status.value(), dir.file("results.jsonl")).ok());
      auto results = parse_all(*api, dir.file("results.jsonl"));
      REQUIRE(results.size() == 3);
      for (const auto& [custom_id, result] : results) {
        INFO(custom_id);
        REQUIRE_FALSE(result.body.ok());
        CHECK(result.body.error().kind == ErrorKind::kTimeout);
        CHECK(result.body.error().message.find("expired") != std::string::npos);
      }
    }
  }
}

TEST_CASE("BatchApi: cancel stops a batch; its requests come back cancelled", "[batch][batch_api]") {
  for (ProviderType type : kBatchTypes) {
    DYNAMIC_SECTION(api_name(type)) {
      FakeProviderServer server(with_deployment({"--batch-delay-ms", "60000"}));
      TempDir dir;
      LibeventLoop loop;
      auto http = llmeval::provider::make_curl_http_client(loop, {});
      ProviderConfig config = config_for(type, server, "");
      auto provider = make_provider(*http, config);
      auto api = make_batch_api(*http, config);
      spool(*api, *provider, {{"a", item_text(1)}, {"b", item_text(2)}}, dir.file("spool"));
      auto submitted = submit(loop, *api, dir.file("spool"));
      REQUIRE(submitted.ok());
      auto cancelling = await<Result<BatchStatus>>(loop, [&](std::function<void(Result<BatchStatus>)> done) {
        api->cancel(submitted.value().batch_id, std::move(done));
      });
      REQUIRE(cancelling.ok());
      CHECK(cancelling.value().provider_status == (openai_style(type) ? "cancelling" : "canceling"));
      CHECK_FALSE(cancelling.value().ended);
      auto status = poll_until_ended(loop, *api, submitted.value().batch_id);
      REQUIRE(status.ok());
      if (openai_style(type)) CHECK(status.value().provider_status == "cancelled");
      CHECK(status.value().requests_failed == 2);
      REQUIRE(download(loop, *api, status.value(), dir.file("results.jsonl")).ok());
      auto results = parse_all(*api, dir.file("results.jsonl"));
      REQUIRE(results.size() == 2);
      for (const auto& [custom_id, result] : results) {
        REQUIRE_FALSE(result.body.ok());
        CHECK(result.body.error().message.find("cancel") != std::string::npos);
      }
      auto stats = server.stats()["batch"];
      CHECK(stats[openai_style(type) ? "openai_cancels" : "anthropic_cancels"] == 1);
    }
  }
}

TEST_CASE("BatchApi: an OpenAI batch whose input fails validation ends failed, saying why", "[batch][batch_api]") {
  FakeProviderServer server({"--batch-delay-ms", "0"});
  TempDir dir;
  LibeventLoop loop;
  auto http = llmeval::provider::make_curl_http_client(loop, {});
  ProviderConfig config = config_for(ProviderType::kOpenAI, server, "");
  auto provider = make_provider(*http, config);
  auto api = make_batch_api(*http, config);
  spool(*api, *provider, {{"same", item_text(1)}, {"same", item_text(2)}}, dir.file("spool"));
  auto submitted = submit(loop, *api, dir.file("spool"));
  REQUIRE(submitted.ok());
  auto status = poll_until_ended(loop, *api, submitted.value().batch_id);
  REQUIRE(status.ok());
  CHECK(status.value().provider_status == "failed");
  CHECK(status.value().ended);
  CHECK(status.value().failure.find("line 2: ") != std::string::npos);
  CHECK(status.value().failure.find("more than once") != std::string::npos);
  // Nothing to download: an empty results file.
  auto bytes = download(loop, *api, status.value(), dir.file("results.jsonl"));
  REQUIRE(bytes.ok());
  CHECK(bytes.value() == 0);
  CHECK(read_lines(dir.file("results.jsonl")).empty());
}

TEST_CASE("BatchApi: a wrong key is kAuth, and the key is in no message", "[batch][batch_api]") {
  for (ProviderType type : kBatchTypes) {
    DYNAMIC_SECTION(api_name(type)) {
      FakeProviderServer server(with_deployment({"--api-key", "k"}));
      TempDir dir;
      LibeventLoop loop;
      auto http = llmeval::provider::make_curl_http_client(loop, {});
      ProviderConfig config = config_for(type, server, "sk-WRONG-secret");
      auto provider = make_provider(*http, config);
      auto api = make_batch_api(*http, config);
      spool(*api, *provider, {{"a", item_text(1)}}, dir.file("spool"));
      auto submitted = submit(loop, *api, dir.file("spool"));
      REQUIRE_FALSE(submitted.ok());
      CHECK(submitted.error().kind == ErrorKind::kAuth);
      CHECK(submitted.error().http_status == 401);
      CHECK(submitted.error().message.find("sk-WRONG-secret") == std::string::npos);
      auto retrieved = await<Result<BatchStatus>>(loop, [&](std::function<void(Result<BatchStatus>)> done) {
        api->retrieve("batch_x", std::move(done));
      });
      REQUIRE_FALSE(retrieved.ok());
      CHECK(retrieved.error().kind == ErrorKind::kAuth);
      CHECK(server.stats()["batch"]["files_uploaded"] == 0);
    }
  }
}

TEST_CASE("BatchApi: Azure's lines must name the global-batch deployment, not its model", "[batch][batch_api]") {
  FakeProviderServer server(with_deployment({"--api-key", "k", "--batch-delay-ms", "0"}));
  TempDir dir;
  LibeventLoop loop;
  auto http = llmeval::provider::make_curl_http_client(loop, {});
  ProviderConfig azure = config_for(ProviderType::kAzure, server, "k");
  auto api = make_batch_api(*http, azure);
  // An OpenAI provider's lines for the same model: "model" is gpt-4.1-mini, no deployment.
  ProviderConfig openai = config_for(ProviderType::kOpenAI, server, "k");
  openai.model = "gpt-4.1-mini";
  auto wrong = make_provider(*http, openai);
  spool(*api, *wrong, {{"a", item_text(1)}, {"b", item_text(2)}}, dir.file("spool"));
  auto submitted = submit(loop, *api, dir.file("spool"));
  REQUIRE(submitted.ok());
  auto status = poll_until_ended(loop, *api, submitted.value().batch_id);
  REQUIRE(status.ok());
  CHECK(status.value().provider_status == "failed");
  CHECK(status.value().failure.find("line 1: The deployment 'gpt-4.1-mini' does not exist") != std::string::npos);
  // The Azure provider's own lines go through, found again by their metadata.
  auto right = make_provider(*http, azure);
  spool(*api, *right, {{"a", item_text(1)}, {"b", item_text(2)}}, dir.file("spool2"));
  auto second = submit(loop, *api, dir.file("spool2"));
  REQUIRE(second.ok());
  auto found = await<Result<std::string>>(loop, [&](std::function<void(Result<std::string>)> done) {
    api->find_submitted("local-7", std::move(done));
  });
  REQUIRE(found.ok());
  CHECK(found.value() == second.value().batch_id);  // the newest under local-7
  status = poll_until_ended(loop, *api, second.value().batch_id);
  REQUIRE(status.ok());
  CHECK(status.value().provider_status == "completed");
  CHECK(status.value().requests_done == 2);
}

TEST_CASE("BatchApi: parse_result_line maps each kind of failure", "[batch][batch_api]") {
  FakeProviderServer server;  // only for the URLs; nothing is sent
  LibeventLoop loop;
  auto http = llmeval::provider::make_curl_http_client(loop, {});
  auto openai = make_batch_api(*http, config_for(ProviderType::kOpenAI, server, "sk-key"));
  auto anthropic = make_batch_api(*http, config_for(ProviderType::kAnthropic, server, "sk-key"));

  auto rate_limited = openai->parse_result_line(
      R"({"id":"r1","custom_id":"x","response":{"status_code":429,"request_id":"q","body":{"error":{"message":"slow down, sk-key"}}},"error":null})");
  REQUIRE(rate_limited.has_value());
  REQUIRE_FALSE(rate_limited->body.ok());
  CHECK(rate_limited->body.error().kind == ErrorKind::kRateLimited);
  CHECK(rate_limited->body.error().message.find("slow down") != std::string::npos);
  CHECK(rate_limited->body.error().message.find("sk-key") == std::string::npos);
  auto cancelled = openai->parse_result_line(
      R"({"id":"r2","custom_id":"y","response":null,"error":{"code":"batch_cancelled","message":"not run"}})");
  REQUIRE(cancelled.has_value());
  CHECK(cancelled->body.error().kind == ErrorKind::kServer);
  CHECK(cancelled->body.error().message.find("batch_cancelled") != std::string::npos);

  auto denied = anthropic->parse_result_line(
      R"({"custom_id":"z","result":{"type":"errored","error":{"type":"error","error":{"type":"permission_error","message":"no"}}}})");
  REQUIRE(denied.has_value());
  CHECK(denied->body.error().kind == ErrorKind::kAuth);
  auto invalid = anthropic->parse_result_line(
      R"({"custom_id":"w","result":{"type":"errored","error":{"type":"error","error":{"type":"invalid_request_error","message":"bad"}}}})");
  REQUIRE(invalid.has_value());
  CHECK(invalid->body.error().kind == ErrorKind::kBadRequest);
  CHECK(invalid->body.error().message.find("bad") != std::string::npos);
}

TEST_CASE("make_batch_api: OpenAI, Azure and Anthropic have one; sim has none", "[batch][batch_api]") {
  LibeventLoop loop;
  auto http = llmeval::provider::make_curl_http_client(loop, {});
  ProviderConfig config;
  config.base_url = "http://127.0.0.1:1";
  config.type = ProviderType::kOpenAI;
  auto openai = make_batch_api(*http, config);
  REQUIRE(openai != nullptr);
  CHECK(openai->limits().max_requests == 50'000);
  CHECK(openai->spool_separator() == "\n");
  config.type = ProviderType::kAnthropic;
  auto anthropic = make_batch_api(*http, config);
  REQUIRE(anthropic != nullptr);
  CHECK(anthropic->limits().max_requests == 100'000);
  CHECK(std::string(anthropic->spool_prefix()) + "{}" + std::string(anthropic->spool_suffix()) ==
        R"({"requests":[{}]})");
  config.type = ProviderType::kAzure;
  config.deployment = "judge";
  auto azure = make_batch_api(*http, config);
  REQUIRE(azure != nullptr);
  CHECK(azure->limits().max_requests == 50'000);  // OpenAI's (batch_limits.h)
  CHECK(azure->spool_separator() == "\n");
  config.type = ProviderType::kSim;
  CHECK(make_batch_api(*http, config) == nullptr);
}
