// CurlHttpClient's streamed bodies against the real fake provider on 127.0.0.1: a body_file
// POSTed from disk, a multipart form whose file part is read from disk (the Files API upload),
// and save_to, which streams a 2xx body of any size to a file while an error body stays in
// memory for mapping.
#include <catch2/catch.hpp>

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include <nlohmann/json.hpp>

#include "core/common/event_loop.h"
#include "core/provider/curl_http_client.h"
#include "tests/support/fake_provider.h"
#include "tests/support/files.h"

using namespace std::chrono_literals;
using llmeval::ErrorKind;
using llmeval::LibeventLoop;
using llmeval::Result;
using llmeval::provider::CurlHttpClientOptions;
using llmeval::provider::FormPart;
using llmeval::provider::HttpClient;
using llmeval::provider::HttpRequest;
using llmeval::provider::HttpResponse;
using llmeval::testing::FakeProviderServer;
using llmeval::testing::read_file;
using llmeval::testing::TempDir;
using llmeval::testing::write_file;
using nlohmann::json;

namespace {

// Sends request on the loop and runs it until the reply (at most 20 s).
Result<HttpResponse> send_and_wait(LibeventLoop& loop, HttpClient& http, HttpRequest request) {
  std::optional<Result<HttpResponse>> out;
  http.send(std::move(request), [&](Result<HttpResponse> reply) {
    out.emplace(std::move(reply));
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

std::unique_ptr<HttpClient> small_cap_client(LibeventLoop& loop) {
  CurlHttpClientOptions options;
  options.max_body_bytes = 4096;
  return llmeval::provider::make_curl_http_client(loop, options);
}

FormPart value_part(std::string name, std::string value) {
  FormPart part;
  part.name = std::move(name);
  part.value = std::move(value);
  return part;
}

FormPart file_part(std::string name, std::string path, std::string filename) {
  FormPart part;
  part.name = std::move(name);
  part.file_path = std::move(path);
  part.filename = std::move(filename);
  part.content_type = "application/jsonl";
  return part;
}

// ~200 KB of batch input lines: far over the 4 KiB cap.
std::string big_jsonl() {
  std::string out;
  for (int i = 0; i < 2000; ++i) {
    out += R"({"custom_id":"r)" + std::to_string(i) +
           R"(","method":"POST","url":"/v1/chat/completions","body":{"model":"gpt-fake","messages":[]}})" + "\n";
  }
  return out;
}

HttpRequest get(const std::string& url) {
  HttpRequest request;
  request.method = "GET";
  request.url = url;
  request.headers.emplace_back("Authorization", "Bearer k");
  return request;
}

}  // namespace

TEST_CASE("CurlHttpClient: a multipart file part is uploaded from disk, and save_to takes a body over the cap",
          "[provider][curl][streaming]") {
  FakeProviderServer server({"--api-key", "k"});
  TempDir dir;
  const std::string content = big_jsonl();
  write_file(dir.file("spool.jsonl"), content);
  LibeventLoop loop;
  auto http = small_cap_client(loop);

  HttpRequest upload;
  upload.url = server.url("/v1/files");
  upload.headers.emplace_back("Authorization", "Bearer k");
  upload.headers.emplace_back("Content-Type", "application/json");  // replaced: curl sets the boundary
  upload.form.push_back(value_part("purpose", "batch"));
  upload.form.push_back(file_part("file", dir.file("spool.jsonl"), "input.jsonl"));
  auto uploaded = send_and_wait(loop, *http, upload);
  REQUIRE(uploaded.ok());
  REQUIRE(uploaded.value().status == 200);
  json file = json::parse(uploaded.value().body);
  CHECK(file["bytes"] == content.size());
  CHECK(file["filename"] == "input.jsonl");
  CHECK(file["purpose"] == "batch");
  const std::string content_url = server.url("/v1/files/" + file["id"].get<std::string>() + "/content");

  // In memory the body is over the cap...
  auto capped = send_and_wait(loop, *http, get(content_url));
  REQUIRE_FALSE(capped.ok());
  CHECK(capped.error().kind == ErrorKind::kServer);

  // ...to a file it has none; the file is truncated first.
  write_file(dir.file("out.jsonl"), std::string(500000, 'x'));
  HttpRequest saved = get(content_url);
  saved.save_to = dir.file("out.jsonl");
  auto downloaded = send_and_wait(loop, *http, saved);
  REQUIRE(downloaded.ok());
  CHECK(downloaded.value().status == 200);
  CHECK(downloaded.value().body.empty());
  CHECK(read_file(dir.file("out.jsonl")) == content);
  CHECK(server.stats()["batch"]["files_uploaded"] == 1);
}

TEST_CASE("CurlHttpClient: body_file is POSTed from disk", "[provider][curl][streaming]") {
  FakeProviderServer server({"--api-key", "k"});
  TempDir dir;
  json params{{"model", "claude-fake"},
              {"max_tokens", 64},
              {"messages", json::array({{{"role", "user"}, {"content", "Scale: 1-5\nJudge this."}}})}};
  json body{
      {"requests", json::array({{{"custom_id", "a"}, {"params", params}}, {{"custom_id", "b"}, {"params", params}}})}};
  write_file(dir.file("create.json"), body.dump());
  LibeventLoop loop;
  auto http = small_cap_client(loop);

  HttpRequest request;
  request.url = server.url("/v1/messages/batches");
  request.headers = {{"x-api-key", "k"}, {"anthropic-version", "2023-06-01"}, {"content-type", "application/json"}};
  request.body = "this is not sent";
  request.body_file = dir.file("create.json");
  auto reply = send_and_wait(loop, *http, request);
  REQUIRE(reply.ok());
  REQUIRE(reply.value().status == 200);
  json batch = json::parse(reply.value().body);
  CHECK(batch["type"] == "message_batch");
  CHECK(batch["request_counts"]["processing"] == 2);

  // A body file that is not there fails at once, before anything is sent.
  request.body_file = dir.file("missing.json");
  auto missing = send_and_wait(loop, *http, request);
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().kind == ErrorKind::kIo);
  CHECK(missing.error().message.find("missing.json") != std::string::npos);
  request.body_file.clear();
  request.form.push_back(file_part("file", dir.file("missing.jsonl"), ""));
  auto missing_part = send_and_wait(loop, *http, request);
  REQUIRE_FALSE(missing_part.ok());
  CHECK(missing_part.error().kind == ErrorKind::kIo);
  CHECK(server.stats()["batch"]["anthropic_created"] == 1);
}

TEST_CASE("CurlHttpClient: save_to leaves an error reply in memory and reports a file it cannot write",
          "[provider][curl][streaming]") {
  FakeProviderServer server({"--api-key", "k"});
  TempDir dir;
  LibeventLoop loop;
  auto http = small_cap_client(loop);

  HttpRequest missing = get(server.url("/v1/files/file-nope/content"));
  missing.save_to = dir.file("never.jsonl");
  auto reply = send_and_wait(loop, *http, missing);
  REQUIRE(reply.ok());
  CHECK(reply.value().status == 404);
  CHECK(json::parse(reply.value().body)["error"]["message"] == "No such File object: file-nope");
  CHECK_FALSE(std::filesystem::exists(dir.file("never.jsonl")));

  // A 2xx reply to a file in a directory that does not exist: kIo naming the file.
  HttpRequest stats = get(server.url("/stats"));
  stats.save_to = dir.file("no-such-dir/stats.json");
  auto unwritable = send_and_wait(loop, *http, stats);
  REQUIRE_FALSE(unwritable.ok());
  CHECK(unwritable.error().kind == ErrorKind::kIo);
  CHECK(unwritable.error().message.find("no-such-dir/stats.json") != std::string::npos);

  // Where it can be written, the 2xx body goes there and not into the response.
  stats.save_to = dir.file("stats.json");
  auto saved = send_and_wait(loop, *http, stats);
  REQUIRE(saved.ok());
  CHECK(saved.value().body.empty());
  CHECK(json::parse(read_file(dir.file("stats.json"))).contains("batch"));
}
