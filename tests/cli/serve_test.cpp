// Integration tests for `llmeval serve` (docs/formats.md §6): the real binary on 127.0.0.1, judging with the
// real fake provider (tests/fakes/fake_provider_server.cpp), talked to over HTTP. This file
// covers the API: endpoints, error answers, request ids, metrics, auth, flag checking, what a
// request may not choose, and secrets in logs. serve_protection_test.cpp covers the limits: body
// size, slow, idle and vanishing clients, load shedding, drain, concurrency, the request timeout.
#include <catch2/catch.hpp>

#include <chrono>
#include <csignal>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/support/build_paths.h"
#include "tests/support/fake_provider.h"
#include "tests/support/files.h"
#include "tests/support/http.h"
#include "tests/support/process.h"
#include "tests/support/serve_process.h"

namespace {

using llmeval::testing::error_kind;
using llmeval::testing::FakeProviderServer;
using llmeval::testing::http_request;
using llmeval::testing::HttpReply;
using llmeval::testing::json_body;
using llmeval::testing::metric_sample;
using llmeval::testing::run_process;
using llmeval::testing::ServeProcess;
using llmeval::testing::TempDir;
using llmeval::testing::write_file;
using nlohmann::json;
using namespace std::chrono_literals;

std::string provider(const FakeProviderServer& fake) { return "openai:judge-model@" + fake.base_url_openai(); }

json row(const json& id, const std::string& output, const json& criteria = "The answer is correct.") {
  return {{"id", id}, {"prompt", "What is the capital of France?"}, {"output", output}, {"criteria", criteria}};
}

int judge_calls(const FakeProviderServer& fake) { return fake.stats().at("by_path").value("/v1/chat/completions", 0); }

std::string describe(const HttpReply& reply) {
  return "status " + std::to_string(reply.status) + " body " + reply.body +
         (reply.error.empty() ? "" : " error " + reply.error);
}

// An {"error": {"kind", "message"}} answer with this status and kind, a message and a request id.
void check_error(const HttpReply& reply, long status, const std::string& kind) {
  INFO(describe(reply));
  CHECK(reply.status == status);
  CHECK(error_kind(reply) == kind);
  json body = json_body(reply);
  bool has_message = body.is_object() && body.contains("error") && body["error"].is_object() &&
                     body["error"].contains("message") && body["error"]["message"].is_string() &&
                     !body["error"]["message"].get<std::string>().empty();
  CHECK(has_message);
  CHECK_FALSE(reply.header("x-request-id").empty());
}

}  // namespace

TEST_CASE("serve judges one posted row and answers 200 with its result row", "[serve]") {
  FakeProviderServer fake;
  ServeProcess serve({"-p", provider(fake)});

  json posted = row("q1", "Paris.");
  posted["metadata"] = {{"team", "geo"}};
  HttpReply reply = serve.post("/v1/evaluate", posted.dump());
  INFO(describe(reply));
  REQUIRE(reply.status == 200);
  json result = json_body(reply);
  CHECK(result["id"] == "q1");
  CHECK(result["line"] == 1);
  CHECK(result["status"] == "ok");
  CHECK(result["error"].is_null());
  CHECK(result["score"].is_number());
  CHECK(result["pass"].is_boolean());
  CHECK(result["metadata"]["team"] == "geo");
  CHECK(result["criteria"]["default"]["judge"]["provider"] == "openai");
  CHECK(result["criteria"]["default"]["judge"]["model"] == "judge-model");
  CHECK_FALSE(reply.header("x-request-id").empty());
  CHECK(judge_calls(fake) == 1);

  // A row without an id is line 1 of its request, so its id is 1, as in `run`.
  json anonymous = row(nullptr, "Lyon.", json::array({{{"name", "has_y"}, {"type", "contains"}, {"value", "y"}}}));
  anonymous.erase("id");
  reply = serve.post("/v1/evaluate", anonymous.dump());
  INFO(describe(reply));
  REQUIRE(reply.status == 200);
  CHECK(json_body(reply)["id"] == 1);
  CHECK(json_body(reply)["criteria"]["has_y"]["pass"] == true);
  CHECK(judge_calls(fake) == 1);  // a deterministic criterion makes no provider call
}

TEST_CASE("serve answers a batch with results in input order, invalid rows as results, and a summary", "[serve]") {
  FakeProviderServer fake;
  ServeProcess serve({"-p", provider(fake), "--max-queue", "4"});

  json rows = json::array({row("a", "Paris."), json{{"prompt", "no output"}}, 7, row(9, "Paris, France.")});
  HttpReply reply = serve.post("/v1/evaluate", json{{"rows", rows}}.dump());
  INFO(describe(reply));
  REQUIRE(reply.status == 200);
  json body = json_body(reply);
  REQUIRE(body["results"].size() == 4);
  for (std::size_t i = 0; i < 4; ++i) {
    INFO("result " << i << ": " << body["results"][i].dump());
    CHECK(body["results"][i]["line"] == i + 1);
  }
  CHECK(body["results"][0]["id"] == "a");
  CHECK(body["results"][0]["status"] == "ok");
  CHECK(body["results"][1]["status"] == "invalid");
  CHECK(body["results"][1]["error"]["kind"] == "missing_field");
  CHECK(body["results"][2]["status"] == "invalid");
  CHECK(body["results"][3]["id"] == 9);
  CHECK(body["results"][3]["status"] == "ok");
  CHECK(body["summary"]["rows"] == 4);
  CHECK(body["summary"]["ok"] == 2);
  CHECK(body["summary"]["invalid"] == 2);
  CHECK_FALSE(reply.header("x-request-id").empty());
  CHECK(judge_calls(fake) == 2);

  check_error(serve.post("/v1/evaluate", R"({"rows": {"not": "an array"}})"), 400, "invalid_request");
  check_error(serve.post("/v1/evaluate", R"({"rows": "x"})"), 400, "invalid_request");
  // More rows than --max-queue could ever hold: refused whole, nothing judged.
  json too_many = json::array();
  for (int i = 0; i < 5; ++i) too_many.push_back(row(i, "Paris."));
  check_error(serve.post("/v1/evaluate", json{{"rows", too_many}}.dump()), 413, "batch_too_large");
  CHECK(judge_calls(fake) == 2);
}

TEST_CASE("serve answers bad requests with JSON errors: 400 bad JSON or row, 404, 405", "[serve]") {
  FakeProviderServer fake;
  ServeProcess serve({"-p", provider(fake)});

  check_error(serve.post("/v1/evaluate", "{not json"), 400, "invalid_json");
  check_error(serve.post("/v1/evaluate", R"({"prompt": "no output here"})"), 400, "missing_field");
  check_error(serve.post("/v1/evaluate", R"({"output": "x", "criteria": 42})"), 400, "invalid_criteria");
  check_error(serve.post("/v1/evaluate",
                         R"({"output": "x", "criteria": [{"name": "r", "type": "regex", "value": "(unclosed"}]})"),
              400, "invalid_regex");
  check_error(serve.post("/v1/evaluate", ""), 400, "invalid_json");
  // Nesting deep enough to blow a recursive parser's stack.
  const std::string deep(200000, '[');
  check_error(serve.post("/v1/evaluate", R"({"output": "x", "criteria": "c", "metadata": {"a": )" + deep + "}}"), 400,
              "invalid_json");
  check_error(serve.post("/v1/evaluate", R"({"rows": )" + deep + "}"), 400, "invalid_json");
  HttpReply array = serve.post("/v1/evaluate", "[1, 2]");
  INFO(describe(array));
  CHECK(array.status == 400);
  CHECK_FALSE(error_kind(array).empty());

  check_error(serve.get("/nope"), 404, "not_found");
  check_error(serve.post("/v1/evaluatex", row("a", "Paris.").dump()), 404, "not_found");
  check_error(serve.get("/v1/evaluate"), 405, "method_not_allowed");
  check_error(http_request("PUT", serve.url("/v1/evaluate"), row("a", "Paris.").dump()), 405, "method_not_allowed");
  CHECK(judge_calls(fake) == 0);
}

TEST_CASE("serve answers 502 with the result row when the judge call fails", "[serve]") {
  FakeProviderServer fake;
  ServeProcess serve({"-p", provider(fake), "--retries", "0"});

  HttpReply reply = serve.post("/v1/evaluate", row("bad", "Paris. [[fake:status=500]]").dump());
  INFO(describe(reply));
  REQUIRE(reply.status == 502);
  json result = json_body(reply);
  CHECK(result["id"] == "bad");
  CHECK(result["line"] == 1);
  CHECK(result["status"] == "error");
  CHECK(result["error"]["kind"] == "provider_error");
  CHECK(result["score"].is_null());
  CHECK(result["pass"].is_null());

  // The provider failing for every request (POST /control) fails each row of a batch alike, but
  // the batch itself is answered 200: its rows carry their own statuses.
  fake.control({{"mode", "fail"}, {"status", 500}});
  HttpReply single = serve.post("/v1/evaluate", row("c", "Paris.").dump());
  INFO(describe(single));
  CHECK(single.status == 502);
  CHECK(json_body(single)["status"] == "error");
  HttpReply batch =
      serve.post("/v1/evaluate", json{{"rows", json::array({row("d", "Paris."), row("e", "Lyon.")})}}.dump());
  INFO(describe(batch));
  CHECK(batch.status == 200);
  CHECK(json_body(batch)["summary"]["error"] == 2);
}

TEST_CASE("serve echoes a well-formed X-Request-Id and generates one otherwise", "[serve]") {
  FakeProviderServer fake;
  ServeProcess serve({"-p", provider(fake)});

  const std::string id = "req-42.a_b:C";
  CHECK(serve.post("/v1/evaluate", row("a", "Paris.").dump(), {"X-Request-Id: " + id}).header("x-request-id") == id);
  CHECK(serve.get("/nope", {"X-Request-Id: " + id}).header("x-request-id") == id);
  CHECK(serve.get("/healthz", {"X-Request-Id: " + id}).header("x-request-id") == id);
  const std::string longest(128, 'x');
  CHECK(serve.get("/healthz", {"X-Request-Id: " + longest}).header("x-request-id") == longest);

  std::string first = serve.get("/healthz").header("x-request-id");
  std::string second = serve.post("/v1/evaluate", row("b", "Paris.").dump()).header("x-request-id");
  CHECK_FALSE(first.empty());
  CHECK_FALSE(second.empty());
  CHECK(first != second);

  // Not echoed: too long, or characters outside [A-Za-z0-9._:-] (which could forge log lines).
  for (const std::string& bad : {std::string(129, 'y'), std::string("a b"), std::string("<script>"),
                                 std::string("x\"y"), std::string("id;rm")}) {
    std::string got = serve.get("/healthz", {"X-Request-Id: " + bad}).header("x-request-id");
    INFO("sent '" << bad << "', got '" << got << "'");
    CHECK_FALSE(got.empty());
    CHECK(got != bad);
  }
}

TEST_CASE("serve exposes /healthz, /readyz and Prometheus /metrics without a token", "[serve]") {
  FakeProviderServer fake;
  ServeProcess serve({"-p", provider(fake)}, {{"LLMEVAL_API_TOKENS", "t1,t2"}});

  CHECK(serve.get("/healthz").status == 200);
  CHECK(serve.get("/readyz").status == 200);
  REQUIRE(serve.post("/v1/evaluate", row("a", "Paris.").dump(), {"Authorization: Bearer t1"}).status == 200);
  REQUIRE(serve.post("/v1/evaluate", "{not json", {"Authorization: Bearer t1"}).status == 400);
  REQUIRE(serve.post("/v1/evaluate", row("a", "Paris.").dump()).status == 401);

  HttpReply metrics = serve.get("/metrics");
  INFO(describe(metrics));
  REQUIRE(metrics.status == 200);
  const std::string& text = metrics.body;
  CHECK(metric_sample(text, "llmeval_inflight_requests").has_value());
  CHECK(metric_sample(text, "llmeval_http_requests_total", {R"(path="/v1/evaluate")", R"(code="200")"}).value_or(0) >=
        1);
  CHECK(metric_sample(text, "llmeval_http_requests_total", {R"(path="/v1/evaluate")", R"(code="400")"}).value_or(0) >=
        1);
  CHECK(metric_sample(text, "llmeval_http_requests_total", {R"(path="/v1/evaluate")", R"(code="401")"}).value_or(0) >=
        1);
  CHECK(metric_sample(text, "llmeval_http_request_duration_seconds_bucket").has_value());
  CHECK(metric_sample(text, "llmeval_evaluations_total", {R"(status="ok")"}).value_or(0) >= 1);
  CHECK(metric_sample(text, "llmeval_provider_requests_total").value_or(0) >= 1);
  CHECK(text.find("# TYPE llmeval_inflight_requests gauge") != std::string::npos);
}

TEST_CASE("serve with LLMEVAL_API_TOKENS answers /v1/evaluate only to a listed bearer token", "[serve]") {
  FakeProviderServer fake;
  ServeProcess serve({"-p", provider(fake)}, {{"LLMEVAL_API_TOKENS", "t1,t2"}});
  const std::string body = row("a", "Paris.").dump();

  HttpReply missing = serve.post("/v1/evaluate", body);
  check_error(missing, 401, "unauthorized");
  CHECK(missing.header("www-authenticate").rfind("Bearer", 0) == 0);
  HttpReply wrong = serve.post("/v1/evaluate", body, {"Authorization: Bearer t3"});
  check_error(wrong, 401, "unauthorized");
  CHECK(wrong.header("www-authenticate").rfind("Bearer", 0) == 0);
  check_error(serve.post("/v1/evaluate", body, {"Authorization: Bearer t1x"}), 401, "unauthorized");
  check_error(serve.post("/v1/evaluate", body, {"Authorization: Bearer "}), 401, "unauthorized");
  check_error(serve.post("/v1/evaluate", body, {"Authorization: Basic dDE6dDE="}), 401, "unauthorized");
  check_error(serve.post("/v1/evaluate", body, {"Authorization: t2"}), 401, "unauthorized");
  CHECK(judge_calls(fake) == 0);

  CHECK(serve.post("/v1/evaluate", body, {"Authorization: Bearer t2"}).status == 200);
  CHECK(serve.post("/v1/evaluate", body, {"Authorization: Bearer t1"}).status == 200);
  CHECK(judge_calls(fake) == 2);
}

TEST_CASE("serve --tokens-file reads one token per line, skipping blank lines and # comments", "[serve]") {
  FakeProviderServer fake;
  TempDir dir;
  write_file(dir.file("tokens"), "# team tokens\nalpha\n\n  \nbeta\n#gamma\n");
  ServeProcess serve({"-p", provider(fake), "--tokens-file", dir.file("tokens")});
  const std::string body = row("a", "Paris.").dump();

  check_error(serve.post("/v1/evaluate", body), 401, "unauthorized");
  check_error(serve.post("/v1/evaluate", body, {"Authorization: Bearer gamma"}), 401, "unauthorized");
  check_error(serve.post("/v1/evaluate", body, {"Authorization: Bearer #gamma"}), 401, "unauthorized");
  check_error(serve.post("/v1/evaluate", body, {"Authorization: Bearer # team tokens"}), 401, "unauthorized");
  CHECK(serve.post("/v1/evaluate", body, {"Authorization: Bearer alpha"}).status == 200);
  CHECK(serve.post("/v1/evaluate", body, {"Authorization: Bearer beta"}).status == 200);
}

TEST_CASE("serve without tokens listens on loopback and needs no Authorization header", "[serve]") {
  FakeProviderServer fake;
  ServeProcess serve({"-p", provider(fake)});
  HttpReply reply = serve.post("/v1/evaluate", row("a", "Paris.").dump());
  INFO(describe(reply));
  CHECK(reply.status == 200);
  CHECK(reply.header("www-authenticate").empty());
}

TEST_CASE("serve refuses a non-loopback address without tokens unless --allow-unauthenticated", "[serve]") {
  FakeProviderServer fake;
  auto refused = run_process({llmeval::testing::llmeval_binary(), "serve", "--listen", "0.0.0.0:0", "-p", provider(fake)}, "",
                             {{"no_proxy", "127.0.0.1"}}, 15s);
  INFO("stdout: " << refused.out << "\nstderr: " << refused.err);
  CHECK_FALSE(refused.timed_out);
  CHECK(refused.exit_code == 2);
  CHECK(refused.err.find("--allow-unauthenticated") != std::string::npos);
  CHECK(refused.out.find("listening on") == std::string::npos);

  SECTION("with --allow-unauthenticated it starts, open to all") {
    ServeProcess serve({"--listen", "0.0.0.0:0", "--allow-unauthenticated", "-p", provider(fake)});
    CHECK(serve.get("/healthz").status == 200);
    CHECK(serve.post("/v1/evaluate", row("a", "Paris.").dump()).status == 200);
  }
  SECTION("tokens start it, and it asks for one") {
    ServeProcess serve({"--listen", "0.0.0.0:0", "-p", provider(fake)}, {{"LLMEVAL_API_TOKENS", "t1"}});
    check_error(serve.post("/v1/evaluate", row("a", "Paris.").dump()), 401, "unauthorized");
    CHECK(serve.post("/v1/evaluate", row("a", "Paris.").dump(), {"Authorization: Bearer t1"}).status == 200);
  }
}

TEST_CASE("serve never lets a request choose a provider URL, a provider or a file", "[serve]") {
  FakeProviderServer fake;
  ServeProcess serve({"-p", provider(fake), "--retries", "0"});

  json hostile = row("h", "Paris.");
  hostile["base_url"] = "http://127.0.0.1:1/";
  hostile["provider"] = "anthropic:evil@http://127.0.0.1:1";
  hostile["model"] = "evil-model";
  hostile["api_key"] = "sk-evil";
  hostile["file"] = "/etc/passwd";
  hostile["config"] = "/etc/passwd";
  hostile["output_path"] = "/tmp/llmeval-serve-should-not-write";
  hostile["criteria"] = json::array({{{"name", "c"}, {"rubric", "Correct."}, {"base_url", "http://127.0.0.1:1/"}}});
  HttpReply reply = serve.post("/v1/evaluate", hostile.dump());
  INFO(describe(reply));
  // Either the row is judged by the configured provider, or an unknown criterion key makes it
  // invalid; it is never sent anywhere else.
  if (reply.status == 200) {
    json result = json_body(reply);
    CHECK(result["status"] == "ok");
    CHECK(result["criteria"]["c"]["judge"]["provider"] == "openai");
    CHECK(result["criteria"]["c"]["judge"]["model"] == "judge-model");
    CHECK(judge_calls(fake) == 1);
  } else {
    CHECK(reply.status == 400);
    CHECK(judge_calls(fake) == 0);
  }
  hostile["criteria"] = "The answer is correct.";
  HttpReply plain = serve.post("/v1/evaluate", hostile.dump());
  INFO(describe(plain));
  REQUIRE(plain.status == 200);
  json result = json_body(plain);
  CHECK(result["status"] == "ok");
  CHECK(result["criteria"]["default"]["judge"]["provider"] == "openai");
  CHECK(result["criteria"]["default"]["judge"]["model"] == "judge-model");
  for (const std::string& body : {reply.body, plain.body}) {
    CHECK(body.find("root:") == std::string::npos);
    CHECK(body.find("/bin/") == std::string::npos);
  }
  CHECK(fake.stats().at("by_path").value("/v1/chat/completions", 0) >= 1);
  CHECK_FALSE(std::ifstream("/tmp/llmeval-serve-should-not-write").good());
}

TEST_CASE("serve keeps API tokens and the provider key out of its JSON logs and its answers", "[serve]") {
  const std::string provider_key = "sk-provider-secret-7f3a9c";
  const std::string token = "tok-api-secret-5b21e8";
  const std::string wrong_token = "tok-wrong-guess-d41d8c";
  FakeProviderServer fake({"--api-key", provider_key});
  ServeProcess serve({"-p", provider(fake), "--retries", "0", "-v", "--log-format", "json"},
                     {{"OPENAI_API_KEY", provider_key}, {"LLMEVAL_API_TOKENS", token + ",tok-other"}});

  std::vector<HttpReply> replies;
  replies.push_back(serve.post("/v1/evaluate", row("a", "Paris.").dump(), {"Authorization: Bearer " + token}));
  CHECK(replies.back().status == 200);
  replies.push_back(serve.post("/v1/evaluate", row("b", "Paris.").dump(), {"Authorization: Bearer " + wrong_token}));
  CHECK(replies.back().status == 401);
  replies.push_back(
      serve.post("/v1/evaluate", row("c", "Paris. [[fake:status=500]]").dump(), {"Authorization: Bearer " + token}));
  CHECK(replies.back().status == 502);
  replies.push_back(serve.post("/v1/evaluate", "{bad json", {"Authorization: Bearer " + token}));
  CHECK(replies.back().status == 400);
  replies.push_back(serve.get("/metrics"));
  CHECK(replies.back().status == 200);
  for (const auto& reply : replies) {
    INFO(describe(reply));
    for (const auto& secret : {provider_key, token, wrong_token}) {
      CHECK(reply.body.find(secret) == std::string::npos);
      for (const auto& [name, value] : reply.headers) CHECK(value.find(secret) == std::string::npos);
    }
  }

  serve.signal(SIGTERM);
  CHECK(serve.wait(10s) == 0);
  const std::string log = serve.log();
  INFO("stderr:\n" << log);
  CHECK_FALSE(log.empty());
  std::istringstream lines(log);
  std::string line;
  int json_lines = 0;
  while (std::getline(lines, line)) {
    if (line.empty()) continue;
    INFO("log line: " << line);
    CHECK(json::parse(line, nullptr, false).is_object());
    ++json_lines;
  }
  CHECK(json_lines >= 1);
  for (const auto& secret : {provider_key, token, wrong_token}) CHECK(log.find(secret) == std::string::npos);
}

TEST_CASE("serve refuses bad flag values and a port in use with exit 2 before listening", "[serve]") {
  FakeProviderServer fake;
  const std::vector<std::vector<std::string>> cases = {
      {"--max-body", "12XB"},
      {"--max-body", "0"},
      {"--read-timeout", "abc"},
      {"--idle-timeout", "0s"},
      {"--request-timeout", "-1s"},
      {"--grace", "x"},
      {"--listen", "nohost"},
      {"--listen", "127.0.0.1:99999"},
      {"--threads", "0"},
      {"--max-queue", "0"},
      {"--tokens-file", "/nonexistent/tokens"},
      {"--listen", "127.0.0.1:" + std::to_string(fake.port())},  // the fake has it
  };
  for (const auto& flags : cases) {
    std::vector<std::string> argv = {llmeval::testing::llmeval_binary(), "serve", "-p", provider(fake)};
    argv.insert(argv.end(), flags.begin(), flags.end());
    if (flags[0] != "--listen") argv.insert(argv.end(), {"--listen", "127.0.0.1:0"});
    auto result = run_process(argv, "", {{"no_proxy", "127.0.0.1"}}, 15s);
    INFO(flags[0] << " " << flags[1] << ": exit " << result.exit_code << ", stdout: " << result.out
                  << "\nstderr: " << result.err);
    CHECK_FALSE(result.timed_out);
    CHECK(result.exit_code == 2);
    CHECK(result.out.find("listening on") == std::string::npos);
    CHECK_FALSE(result.err.empty());
  }
}
