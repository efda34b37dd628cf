// Integration tests of the fake provider's batch APIs (OpenAI Batch + Files, Anthropic Message
// Batches): the real binary on 127.0.0.1, driven with libcurl, so that the batch client built
// on it can trust that a batch verdict is the online verdict and that its counters are exact.
#include <algorithm>
#include <catch2/catch.hpp>
#include <chrono>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/fake_provider.h"
#include "tests/support/http.h"

namespace {

using llmeval::testing::FakeProviderServer;
using llmeval::testing::http_request;
using llmeval::testing::HttpReply;
using nlohmann::json;

const std::vector<std::string> kOpenAiAuth{"Authorization: Bearer k"};
const std::vector<std::string> kAnthropicAuth{"x-api-key: k", "anthropic-version: 2023-06-01"};

json openai_request(const std::string& content) {
  return {{"model", "gpt-fake"},
          {"temperature", 0},
          {"max_tokens", 64},
          {"messages", json::array({{{"role", "system"}, {"content", "You are a judge. Reply with JSON."}},
                                    {{"role", "user"}, {"content", content}}})}};
}

json anthropic_request(const std::string& content) {
  return {{"model", "claude-fake"},
          {"system", "You are a judge."},
          {"max_tokens", 64},
          {"messages", json::array({{{"role", "user"}, {"content", content}}})}};
}

std::string item_text(int i) { return "Scale: 1-10\nAnswer number " + std::to_string(i) + " to judge."; }

std::vector<json> jsonl(const std::string& text) {
  std::vector<json> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) lines.push_back(json::parse(line));
  }
  return lines;
}

// POST /v1/files (or Azure's files path, with its auth) as the SDKs send it: multipart/form-data
// with "purpose" and "file". The reply, whatever its status.
HttpReply upload_to(const FakeProviderServer& server, const std::string& path, std::vector<std::string> headers,
                    const std::string& content, const std::string& purpose = "batch") {
  const std::string boundary = "llmevalBoundary7MA4YWxk";
  std::string body = "--" + boundary + "\r\nContent-Disposition: form-data; name=\"purpose\"\r\n\r\n" + purpose +
                     "\r\n--" + boundary +
                     "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"batch.jsonl\"\r\n"
                     "Content-Type: application/jsonl\r\n\r\n" +
                     content + "\r\n--" + boundary + "--\r\n";
  headers.push_back("Content-Type: multipart/form-data; boundary=" + boundary);
  return http_request("POST", server.url(path), body, headers);
}

json upload(const FakeProviderServer& server, const std::string& content, const std::string& purpose = "batch") {
  HttpReply reply = upload_to(server, "/v1/files", kOpenAiAuth, content, purpose);
  REQUIRE(reply.status == 200);
  return json::parse(reply.body);
}

std::string openai_input(const std::vector<std::pair<std::string, json>>& items) {
  std::string out;
  for (const auto& [custom_id, body] : items) {
    out += json{{"custom_id", custom_id}, {"method", "POST"}, {"url", "/v1/chat/completions"}, {"body", body}}.dump() +
           "\n";
  }
  return out;
}

json create_openai_batch(const FakeProviderServer& server, const std::string& file_id) {
  json body{{"input_file_id", file_id},
            {"endpoint", "/v1/chat/completions"},
            {"completion_window", "24h"},
            {"metadata", {{"run", "test"}}}};
  HttpReply reply = http_request("POST", server.url("/v1/batches"), body.dump(), kOpenAiAuth);
  REQUIRE(reply.status == 200);
  return json::parse(reply.body);
}

// Polls GET /v1/batches/{id} until the status is one of `until`, noting every status seen.
json poll_openai(const FakeProviderServer& server, const std::string& id, const std::vector<std::string>& until,
                 std::vector<std::string>* seen = nullptr) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  for (;;) {
    HttpReply reply = http_request("GET", server.url("/v1/batches/" + id), "", kOpenAiAuth);
    REQUIRE(reply.status == 200);
    json batch = json::parse(reply.body);
    std::string status = batch["status"];
    if (seen != nullptr && (seen->empty() || seen->back() != status)) seen->push_back(status);
    if (std::find(until.begin(), until.end(), status) != until.end()) return batch;
    REQUIRE(std::chrono::steady_clock::now() < deadline);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

std::string file_content(const FakeProviderServer& server, const json& file_id) {
  REQUIRE(file_id.is_string());
  HttpReply reply = http_request("GET", server.url("/v1/files/" + file_id.get<std::string>() + "/content"), "",
                                 kOpenAiAuth);
  REQUIRE(reply.status == 200);
  return reply.body;
}

json create_anthropic_batch(const FakeProviderServer& server, const std::vector<std::pair<std::string, json>>& items) {
  json requests = json::array();
  for (const auto& [custom_id, params] : items) requests.push_back({{"custom_id", custom_id}, {"params", params}});
  HttpReply reply = http_request("POST", server.url("/v1/messages/batches"), json{{"requests", requests}}.dump(),
                                 kAnthropicAuth);
  REQUIRE(reply.status == 200);
  return json::parse(reply.body);
}

json poll_anthropic(const FakeProviderServer& server, const std::string& id) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  for (;;) {
    HttpReply reply = http_request("GET", server.url("/v1/messages/batches/" + id), "", kAnthropicAuth);
    REQUIRE(reply.status == 200);
    json batch = json::parse(reply.body);
    if (batch["processing_status"] == "ended") return batch;
    REQUIRE(std::chrono::steady_clock::now() < deadline);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

std::vector<json> anthropic_results(const json& batch) {
  HttpReply reply = http_request("GET", batch["results_url"].get<std::string>(), "", kAnthropicAuth);
  REQUIRE(reply.status == 200);
  return jsonl(reply.body);
}

std::string online_openai_text(const FakeProviderServer& server, const json& body) {
  HttpReply reply = http_request("POST", server.url("/v1/chat/completions"), body.dump(), kOpenAiAuth);
  REQUIRE(reply.status == 200);
  return json::parse(reply.body)["choices"][0]["message"]["content"].get<std::string>();
}

std::string online_anthropic_text(const FakeProviderServer& server, const json& body) {
  HttpReply reply = http_request("POST", server.url("/v1/messages"), body.dump(), kAnthropicAuth);
  REQUIRE(reply.status == 200);
  return json::parse(reply.body)["content"][0]["text"].get<std::string>();
}

}  // namespace

TEST_CASE("Fake OpenAI batch: upload, create, poll, download; verdicts equal the online ones",
          "[fakes][fake_provider][fake_batch]") {
  FakeProviderServer server({"--api-key", "k", "--batch-delay-ms", "150"});
  std::vector<std::pair<std::string, json>> items;
  for (int i = 0; i < 40; ++i) items.emplace_back("row-" + std::to_string(i), openai_request(item_text(i)));
  const std::string input = openai_input(items);

  json file = upload(server, input);
  CHECK(file["object"] == "file");
  CHECK(file["purpose"] == "batch");
  CHECK(file["bytes"] == input.size());
  CHECK(file["filename"] == "batch.jsonl");
  CHECK(file["id"].get<std::string>().rfind("file-", 0) == 0);

  json batch = create_openai_batch(server, file["id"]);
  CHECK(batch["object"] == "batch");
  CHECK(batch["status"] == "validating");
  CHECK(batch["id"].get<std::string>().rfind("batch_", 0) == 0);
  CHECK(batch["input_file_id"] == file["id"]);
  CHECK(batch["endpoint"] == "/v1/chat/completions");
  CHECK(batch["completion_window"] == "24h");
  CHECK(batch["metadata"] == json{{"run", "test"}});
  CHECK(batch["output_file_id"].is_null());
  CHECK(batch["expires_at"].get<std::int64_t>() == batch["created_at"].get<std::int64_t>() + 86400);

  std::vector<std::string> seen{"validating"};
  json done = poll_openai(server, batch["id"], {"completed"}, &seen);
  CHECK(seen == std::vector<std::string>{"validating", "in_progress", "finalizing", "completed"});
  CHECK(done["request_counts"] == json{{"total", 40}, {"completed", 40}, {"failed", 0}});
  CHECK(done["error_file_id"].is_null());
  CHECK(done["usage"]["total_tokens"].get<int>() > 0);
  for (const char* at : {"in_progress_at", "finalizing_at", "completed_at"}) CHECK(done[at].is_number_integer());

  HttpReply output_meta = http_request("GET", server.url("/v1/files/" + done["output_file_id"].get<std::string>()), "",
                                       kOpenAiAuth);
  REQUIRE(output_meta.status == 200);
  json output_file = json::parse(output_meta.body);
  CHECK(output_file["purpose"] == "batch_output");

  std::vector<json> lines = jsonl(file_content(server, done["output_file_id"]));
  REQUIRE(lines.size() == 40);
  std::map<std::string, json> by_id;
  std::vector<std::string> order;
  for (const json& line : lines) {
    CHECK(line["error"].is_null());
    CHECK(line["response"]["status_code"] == 200);
    CHECK(line["response"]["request_id"].is_string());
    CHECK(line["id"].is_string());
    order.push_back(line["custom_id"]);
    by_id[line["custom_id"]] = line;
  }
  REQUIRE(by_id.size() == 40);
  // Shuffled: not in input order (40 lines: the chance of the identity permutation is nil).
  std::vector<std::string> input_order;
  for (const auto& item : items) input_order.push_back(item.first);
  CHECK(order != input_order);
  for (const auto& [custom_id, body] : items) {
    INFO(custom_id);
    REQUIRE(by_id.count(custom_id) == 1);
    CHECK(by_id[custom_id]["response"]["body"]["choices"][0]["message"]["content"] == online_openai_text(server, body));
  }

  json stats = server.stats()["batch"];
  CHECK(stats["files_uploaded"] == 1);
  CHECK(stats["openai_created"] == 1);
  CHECK(stats["openai_requests"] == 40);
  CHECK(stats["anthropic_created"] == 0);
  CHECK(stats["file_downloads"] == 1);
  // Batch calls are not online API requests; the 40 online checks are.
  CHECK(server.stats()["requests"] == 40);
}

TEST_CASE("Fake OpenAI batch: scripted per-request errors go to the error file", "[fakes][fake_provider][fake_batch]") {
  FakeProviderServer server({"--batch-delay-ms", "0"});
  json file = upload(server, openai_input({{"ok-1", openai_request(item_text(1))},
                                           {"bad-1", openai_request("judge this [[fake:status=500]]")},
                                           {"ok-2", openai_request(item_text(2))}}));
  json batch = create_openai_batch(server, file["id"]);
  json done = poll_openai(server, batch["id"], {"completed"});
  CHECK(done["request_counts"] == json{{"total", 3}, {"completed", 2}, {"failed", 1}});
  CHECK(jsonl(file_content(server, done["output_file_id"])).size() == 2);
  std::vector<json> errors = jsonl(file_content(server, done["error_file_id"]));
  REQUIRE(errors.size() == 1);
  CHECK(errors[0]["custom_id"] == "bad-1");
  CHECK(errors[0]["response"]["status_code"] == 500);
  CHECK(errors[0]["response"]["body"]["error"]["message"] == "injected status 500");
}

TEST_CASE("Fake OpenAI batch: a bad input line fails the batch", "[fakes][fake_provider][fake_batch]") {
  FakeProviderServer server({"--batch-delay-ms", "0"});
  std::string input = openai_input({{"same", openai_request("a")}, {"same", openai_request("b")}}) + "not json\n";
  json batch = create_openai_batch(server, upload(server, input)["id"]);
  json done = poll_openai(server, batch["id"], {"failed", "completed"});
  CHECK(done["status"] == "failed");
  CHECK(done["failed_at"].is_number_integer());
  REQUIRE(done["errors"]["data"].size() == 2);
  CHECK(done["errors"]["object"] == "list");
  CHECK(done["errors"]["data"][0]["line"] == 2);
  CHECK(done["errors"]["data"][1]["line"] == 3);
  // And the wrong purpose or an unknown file is refused at creation.
  json other = upload(server, input, "fine-tune");
  json body{{"input_file_id", other["id"]}, {"endpoint", "/v1/chat/completions"}, {"completion_window", "24h"}};
  CHECK(http_request("POST", server.url("/v1/batches"), body.dump(), kOpenAiAuth).status == 400);
  body["input_file_id"] = "file-nope";
  CHECK(http_request("POST", server.url("/v1/batches"), body.dump(), kOpenAiAuth).status == 404);
}

TEST_CASE("Fake Azure batch: the dated API needs api-version and api-key; lines name one deployment",
          "[fakes][fake_provider][fake_batch]") {
  FakeProviderServer server(
      {"--api-key", "k", "--batch-delay-ms", "0", "--azure-deployment", "judge-batch=gpt-4.1-mini"});
  const std::vector<std::string> auth{"api-key: k"};
  const std::string v = "?api-version=2024-10-21";
  auto line = [](const std::string& id, const std::string& url, const std::string& model, const std::string& text) {
    json body = openai_request(text);
    body["model"] = model;
    return json{{"custom_id", id}, {"method", "POST"}, {"url", url}, {"body", body}}.dump() + "\n";
  };
  const std::string good = line("a", "/chat/completions", "judge-batch", item_text(1)) +
                           line("b", "/v1/chat/completions", "judge-batch", item_text(2));
  CHECK(upload_to(server, "/openai/files", auth, good).status == 404);             // no api-version
  CHECK(upload_to(server, "/openai/files" + v, kOpenAiAuth, good).status == 401);  // Bearer is not Azure's auth
  HttpReply uploaded = upload_to(server, "/openai/files" + v, auth, good);
  REQUIRE(uploaded.status == 201);  // REST reference, Files - Upload
  auto create = [&](const std::string& file_id) {
    json body{{"input_file_id", file_id}, {"endpoint", "/chat/completions"}, {"completion_window", "24h"}};
    HttpReply reply = http_request("POST", server.url("/openai/batches" + v), body.dump(), auth);
    REQUIRE(reply.status == 200);
    return json::parse(reply.body);
  };
  auto poll = [&](const std::string& id) {
    for (int i = 0; i < 500; ++i) {
      HttpReply reply = http_request("GET", server.url("/openai/batches/" + id + v), "", auth);
      REQUIRE(reply.status == 200);
      json batch = json::parse(reply.body);
      if (batch["status"] == "completed" || batch["status"] == "failed") return batch;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    FAIL("the batch did not end");
    return json();
  };
  json done = poll(create(json::parse(uploaded.body)["id"])["id"]);
  REQUIRE(done["status"] == "completed");
  CHECK(done["model"] == "judge-batch");
  HttpReply output = http_request(
      "GET", server.url("/openai/files/" + done["output_file_id"].get<std::string>() + "/content" + v), "", auth);
  REQUIRE(output.status == 200);
  auto results = jsonl(output.body);
  REQUIRE(results.size() == 2);
  for (const json& result : results) {
    const json& completion = result["response"]["body"];
    CHECK(completion["model"] == "gpt-4.1-mini");  // the deployment's model judged it
    const std::string text = result["custom_id"] == "a" ? item_text(1) : item_text(2);
    HttpReply online = http_request("POST", server.url("/openai/deployments/judge-batch/chat/completions" + v),
                                    openai_request(text).dump(), auth);
    REQUIRE(online.status == 200);
    CHECK(completion["choices"][0]["message"]["content"] ==
          json::parse(online.body)["choices"][0]["message"]["content"]);
  }

  // A model that is no deployment, a second deployment, another endpoint: the batch fails.
  const std::string bad = line("a", "/chat/completions", "judge-batch", "x") +
                          line("b", "/chat/completions", "gpt-4.1-mini", "y") +
                          line("c", "/v1/embeddings", "judge-batch", "z");
  HttpReply bad_file = upload_to(server, "/openai/files" + v, auth, bad);
  REQUIRE(bad_file.status == 201);
  json failed = poll(create(json::parse(bad_file.body)["id"])["id"]);
  CHECK(failed["status"] == "failed");
  REQUIRE(failed["errors"]["data"].size() == 2);
  CHECK(failed["errors"]["data"][0]["line"] == 2);
  CHECK(failed["errors"]["data"][0]["code"] == "model_not_found");
  CHECK(failed["errors"]["data"][1]["line"] == 3);
  CHECK(failed["errors"]["data"][1]["code"] == "mismatched_url");
}

TEST_CASE("Fake OpenAI batch: expiry and cancel put every request in the error file",
          "[fakes][fake_provider][fake_batch]") {
  FakeProviderServer server({"--batch-delay-ms", "50", "--batch-expire", "on"});
  std::string input = openai_input({{"a", openai_request("a")}, {"b", openai_request("b")}});
  json expired = poll_openai(server, create_openai_batch(server, upload(server, input)["id"])["id"],
                             {"expired", "completed"});
  CHECK(expired["status"] == "expired");
  CHECK(expired["expired_at"].is_number_integer());
  CHECK(expired["output_file_id"].is_null());
  std::vector<json> lines = jsonl(file_content(server, expired["error_file_id"]));
  REQUIRE(lines.size() == 2);
  for (const json& line : lines) {
    CHECK(line["response"].is_null());
    CHECK(line["error"]["code"] == "batch_expired");
  }

  server.control({{"batch_expire", false}, {"batch_delay_ms", 60000}});
  json batch = create_openai_batch(server, upload(server, input)["id"]);
  HttpReply cancel = http_request("POST", server.url("/v1/batches/" + batch["id"].get<std::string>() + "/cancel"), "",
                                  kOpenAiAuth);
  REQUIRE(cancel.status == 200);
  CHECK(json::parse(cancel.body)["status"] == "cancelling");
  json cancelled = poll_openai(server, batch["id"], {"cancelled"});
  CHECK(cancelled["cancelling_at"].is_number_integer());
  CHECK(cancelled["cancelled_at"].is_number_integer());
  lines = jsonl(file_content(server, cancelled["error_file_id"]));
  REQUIRE(lines.size() == 2);
  CHECK(lines[0]["error"]["code"] == "batch_cancelled");
  // A finished batch cannot be cancelled.
  CHECK(http_request("POST", server.url("/v1/batches/" + batch["id"].get<std::string>() + "/cancel"), "", kOpenAiAuth)
            .status == 409);
  json stats = server.stats()["batch"];
  CHECK(stats["openai_created"] == 2);
  CHECK(stats["openai_requests"] == 4);
  CHECK(stats["openai_cancels"] == 1);
  CHECK(stats["files_uploaded"] == 2);
}

TEST_CASE("Fake Anthropic message batch: create, poll, results; verdicts equal the online ones",
          "[fakes][fake_provider][fake_batch]") {
  FakeProviderServer server({"--api-key", "k", "--batch-delay-ms", "100", "--seed", "7"});
  std::vector<std::pair<std::string, json>> items;
  for (int i = 0; i < 30; ++i) items.emplace_back("row_" + std::to_string(i), anthropic_request(item_text(i)));
  items.emplace_back("broken", anthropic_request("judge this [[fake:status=529]]"));

  // The batch calls take the same auth as /v1/messages.
  CHECK(http_request("POST", server.url("/v1/messages/batches"), "{}", {"anthropic-version: 2023-06-01"}).status ==
        401);
  CHECK(http_request("POST", server.url("/v1/messages/batches"), "{}", {"x-api-key: k"}).status == 400);

  json batch = create_anthropic_batch(server, items);
  CHECK(batch["type"] == "message_batch");
  CHECK(batch["id"].get<std::string>().rfind("msgbatch_", 0) == 0);
  CHECK(batch["processing_status"] == "in_progress");
  CHECK(batch["request_counts"] ==
        json{{"processing", 31}, {"succeeded", 0}, {"errored", 0}, {"canceled", 0}, {"expired", 0}});
  CHECK(batch["results_url"].is_null());
  CHECK(batch["created_at"].is_string());
  CHECK(batch["expires_at"].is_string());
  // Results are not there before it ended.
  CHECK(http_request("GET", server.url("/v1/messages/batches/" + batch["id"].get<std::string>() + "/results"), "",
                     kAnthropicAuth)
            .status == 400);

  json ended = poll_anthropic(server, batch["id"]);
  CHECK(ended["request_counts"] ==
        json{{"processing", 0}, {"succeeded", 30}, {"errored", 1}, {"canceled", 0}, {"expired", 0}});
  CHECK(ended["ended_at"].is_string());
  CHECK(ended["results_url"] == server.url("/v1/messages/batches/" + batch["id"].get<std::string>() + "/results"));

  std::vector<json> lines = anthropic_results(ended);
  REQUIRE(lines.size() == 31);
  std::map<std::string, json> by_id;
  std::vector<std::string> order;
  for (const json& line : lines) {
    order.push_back(line["custom_id"]);
    by_id[line["custom_id"]] = line["result"];
  }
  std::vector<std::string> input_order;
  for (const auto& item : items) input_order.push_back(item.first);
  CHECK(order != input_order);
  CHECK(by_id["broken"]["type"] == "errored");
  CHECK(by_id["broken"]["error"]["type"] == "error");
  CHECK(by_id["broken"]["error"]["error"]["type"] == "overloaded_error");
  for (const auto& [custom_id, params] : items) {
    if (custom_id == "broken") continue;
    INFO(custom_id);
    REQUIRE(by_id[custom_id]["type"] == "succeeded");
    CHECK(by_id[custom_id]["message"]["type"] == "message");
    CHECK(by_id[custom_id]["message"]["content"][0]["text"] == online_anthropic_text(server, params));
  }
  json stats = server.stats()["batch"];
  CHECK(stats["anthropic_created"] == 1);
  CHECK(stats["anthropic_requests"] == 31);
  CHECK(stats["results_downloads"] == 1);
}

TEST_CASE("Fake Anthropic message batch: cancel, expiry, input order and bad custom_ids",
          "[fakes][fake_provider][fake_batch]") {
  FakeProviderServer server({"--batch-delay-ms", "60000", "--batch-order", "input"});
  std::vector<std::pair<std::string, json>> items{{"a", anthropic_request("a")}, {"b", anthropic_request("b")}};
  json batch = create_anthropic_batch(server, items);
  HttpReply cancel = http_request(
      "POST", server.url("/v1/messages/batches/" + batch["id"].get<std::string>() + "/cancel"), "", kAnthropicAuth);
  REQUIRE(cancel.status == 200);
  CHECK(json::parse(cancel.body)["processing_status"] == "canceling");
  CHECK(json::parse(cancel.body)["cancel_initiated_at"].is_string());
  json ended = poll_anthropic(server, batch["id"]);
  CHECK(ended["request_counts"]["canceled"] == 2);
  std::vector<json> lines = anthropic_results(ended);
  REQUIRE(lines.size() == 2);
  CHECK(lines[0] == json{{"custom_id", "a"}, {"result", {{"type", "canceled"}}}});
  CHECK(lines[1]["custom_id"] == "b");

  server.control({{"batch_expire", true}, {"batch_delay_ms", 0}});
  ended = poll_anthropic(server, create_anthropic_batch(server, items)["id"]);
  CHECK(ended["request_counts"]["expired"] == 2);
  for (const json& line : anthropic_results(ended)) CHECK(line["result"]["type"] == "expired");

  json bad{{"requests", json::array({{{"custom_id", "has space"}, {"params", anthropic_request("a")}}})}};
  CHECK(http_request("POST", server.url("/v1/messages/batches"), bad.dump(), kAnthropicAuth).status == 400);
  json dup{{"requests", json::array({{{"custom_id", "x"}, {"params", anthropic_request("a")}},
                                     {{"custom_id", "x"}, {"params", anthropic_request("b")}}})}};
  CHECK(http_request("POST", server.url("/v1/messages/batches"), dup.dump(), kAnthropicAuth).status == 400);
  json stats = server.stats()["batch"];
  CHECK(stats["anthropic_created"] == 2);
  CHECK(stats["anthropic_requests"] == 4);
  CHECK(stats["anthropic_cancels"] == 1);
  server.reset_stats();
  CHECK(server.stats()["batch"]["anthropic_created"] == 0);
}
