// Integration tests of the fake provider itself: the real binary on 127.0.0.1, driven with
// libcurl, so that the tests built on it can trust its wire format, markers and counters.
#include <curl/curl.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <chrono>
#include <csignal>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "tests/support/fake_provider.h"
#include "tests/support/http.h"

namespace {

using llmeval::testing::FakeProviderServer;
using llmeval::testing::http_request;
using llmeval::testing::HttpReply;
using nlohmann::json;

json user(const std::string& content) { return {{"role", "user"}, {"content", content}}; }

// JSON mode needs the word "json" in the messages: the system message says it.
std::string openai_body(const json& messages) {
  json all = json::array({{{"role", "system"}, {"content", "You are a judge. Reply with a JSON object."}}});
  for (const json& message : messages) all.push_back(message);
  return json{{"model", "gpt-fake"}, {"temperature", 0}, {"max_tokens", 64}, {"messages", all},
              {"response_format", {{"type", "json_object"}}}}
      .dump();
}

HttpReply ask_openai_messages(const FakeProviderServer& server, const json& messages, const std::string& key = "k") {
  return http_request("POST", server.base_url_openai() + "/chat/completions", openai_body(messages),
                      {"Authorization: Bearer " + key});
}

HttpReply ask_openai(const FakeProviderServer& server, const std::string& content) {
  return ask_openai_messages(server, json::array({user(content)}));
}

HttpReply ask_anthropic(const FakeProviderServer& server, const std::string& content,
                        std::vector<std::string> headers = {"x-api-key: k", "anthropic-version: 2023-06-01"}) {
  json body{{"model", "claude-fake"}, {"system", "You are a judge."}, {"max_tokens", 64},
            {"temperature", 0}, {"messages", json::array({user(content)})}};
  return http_request("POST", server.base_url_anthropic() + "/v1/messages", body.dump(), headers);
}

// The judge reply text inside an OpenAI completion.
std::string openai_text(const HttpReply& reply) {
  return json::parse(reply.body)["choices"][0]["message"]["content"].get<std::string>();
}

json openai_verdict(const HttpReply& reply) { return json::parse(openai_text(reply)); }

long header_number(const HttpReply& reply, std::string_view name) {
  std::string value = reply.header(name);
  return value.empty() ? -1 : std::stol(value);
}

// The log entry at index once the server has finished it (answered or seen the hang-up): the
// client's side of a hang-up and the server's may be a few milliseconds apart.
json finished_log_entry(const FakeProviderServer& server, std::size_t index) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  for (;;) {
    json requests = server.log()["requests"];
    if (requests.size() > index && !requests[index]["finished_ms"].is_null()) return requests[index];
    if (std::chrono::steady_clock::now() > deadline) return requests.size() > index ? requests[index] : json();
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

double held_ms(const json& entry) { return entry["finished_ms"].get<double>() - entry["arrived_ms"].get<double>(); }

}  // namespace

TEST_CASE("Fake provider answers OpenAI chat completions with a verdict in the asked scale", "[fakes][fake_provider]") {
  FakeProviderServer server;

  SECTION("reply shape and usage") {
    HttpReply reply = ask_openai(server, "Judge this.\nScale: 1-10\nAnswer: Paris");
    REQUIRE(reply.status == 200);
    CHECK(reply.header("content-type") == "application/json");
    json body = json::parse(reply.body);
    CHECK(body["object"] == "chat.completion");
    CHECK(body["model"] == "gpt-fake");
    CHECK(body["choices"][0]["message"]["role"] == "assistant");
    CHECK(body["choices"][0]["finish_reason"] == "stop");
    CHECK(body["usage"]["prompt_tokens"].get<int>() > 0);
    CHECK(body["usage"]["total_tokens"].get<int>() ==
          body["usage"]["prompt_tokens"].get<int>() + body["usage"]["completion_tokens"].get<int>());
    CHECK(body["usage"]["prompt_tokens_details"]["cached_tokens"] == 0);
    CHECK(body["usage"]["completion_tokens_details"]["reasoning_tokens"] == 0);
    std::string text = openai_text(reply);
    CHECK(text.rfind(R"({"reason": "fake judge: deterministic score", "score": )", 0) == 0);  // reason first
    json verdict = json::parse(text);
    int score = verdict["score"].get<int>();
    CHECK(score >= 1);
    CHECK(score <= 10);
    CHECK_FALSE(verdict.contains("pass"));
  }

  SECTION("the Scale line may sit in the system prompt") {
    json messages = json::array({{{"role", "system"}, {"content", "Judge. Reply in JSON.\nScale: 0-1"}}, user("x")});
    for (int i = 0; i < 10; ++i) {
      messages[1]["content"] = "candidate " + std::to_string(i);
      int score = openai_verdict(ask_openai_messages(server, messages))["score"].get<int>();
      CHECK((score == 0 || score == 1));
    }
  }

  SECTION("the score is deterministic and follows the Scale line") {
    for (int i = 0; i < 20; ++i) {
      std::string content = "Scale: 0-1\ncandidate " + std::to_string(i);
      int first = openai_verdict(ask_openai(server, content))["score"].get<int>();
      int second = openai_verdict(ask_openai(server, content))["score"].get<int>();
      CHECK(first == second);
      CHECK((first == 0 || first == 1));
    }
    int default_scale = openai_verdict(ask_openai(server, "no scale given"))["score"].get<int>();
    CHECK(default_scale >= 1);
    CHECK(default_scale <= 5);
  }

  SECTION("the /chat/completions path without /v1 also works") {
    HttpReply reply = http_request("POST", server.url("/chat/completions"), openai_body(json::array({user("x")})));
    CHECK(reply.status == 200);
  }
}

TEST_CASE("Fake provider answers Anthropic messages and insists on anthropic-version", "[fakes][fake_provider]") {
  FakeProviderServer server;

  HttpReply reply = ask_anthropic(server, "Scale: 1-5\nAnswer: 4");
  REQUIRE(reply.status == 200);
  json body = json::parse(reply.body);
  CHECK(body["type"] == "message");
  CHECK(body["role"] == "assistant");
  CHECK(body["model"] == "claude-fake");
  CHECK(body["stop_reason"] == "end_turn");
  CHECK(body["usage"]["input_tokens"].get<int>() > 0);
  REQUIRE(body["content"][0]["type"] == "text");
  json verdict = json::parse(body["content"][0]["text"].get<std::string>());
  CHECK(verdict["score"].get<int>() >= 1);
  CHECK(verdict["score"].get<int>() <= 5);

  HttpReply missing = ask_anthropic(server, "Scale: 1-5", {"x-api-key: k"});
  CHECK(missing.status == 400);
  json error = json::parse(missing.body);
  CHECK(error["type"] == "error");
  CHECK(error["error"]["type"] == "invalid_request_error");
}

TEST_CASE("Fake provider markers script single requests", "[fakes][fake_provider]") {
  FakeProviderServer server;

  SECTION("status=503 answers a vendor-shaped error") {
    HttpReply reply = ask_openai(server, "x [[fake:status=503]]");
    CHECK(reply.status == 503);
    CHECK(json::parse(reply.body)["error"]["type"] == "server_error");
    HttpReply anthropic = ask_anthropic(server, "x [[fake:status=529]]");
    CHECK(anthropic.status == 529);
    CHECK(json::parse(anthropic.body)["error"]["type"] == "overloaded_error");
  }

  SECTION("status=429 carries retry-after") {
    HttpReply reply = ask_openai(server, "x [[fake:status=429]]");
    CHECK(reply.status == 429);
    CHECK(reply.header("retry-after") == "1");
  }

  SECTION("fail_first=N fails the first N identical requests, then succeeds") {
    const std::string content = "Scale: 1-5 [[fake:fail_first=2]] unique-a";
    CHECK(ask_openai(server, content).status == 500);
    CHECK(ask_openai(server, "Scale: 1-5 [[fake:fail_first=2]] unique-b").status == 500);  // its own count
    CHECK(ask_openai(server, content).status == 500);
    CHECK(ask_openai(server, content).status == 200);
    CHECK(ask_openai(server, content).status == 200);
  }

  SECTION("unparseable_once answers prose, then a verdict to a repair attempt") {
    const std::string content = "Scale: 1-5 [[fake:reply=unparseable_once]] [[fake:score=4]]";
    std::string prose = openai_text(ask_openai(server, content));
    CHECK(prose == "I think it is pretty good.");
    CHECK(json::parse(prose, nullptr, false).is_discarded());

    json repair = json::array({user(content), {{"role", "assistant"}, {"content", prose}},
                               user("That was not JSON. Reply with only the JSON object.")});
    json verdict = openai_verdict(ask_openai_messages(server, repair));
    CHECK(verdict["score"] == 4);
  }

  SECTION("unparseable answers prose even to a repair attempt") {
    const std::string content = "[[fake:reply=unparseable]]";
    json repair = json::array({user(content), {{"role", "assistant"}, {"content", "meh"}}, user("JSON please")});
    CHECK(openai_text(ask_openai_messages(server, repair)) == "I think it is pretty good.");
  }

  SECTION("score, out_of_range and fenced shape the verdict") {
    CHECK(openai_verdict(ask_openai(server, "Scale: 1-10 [[fake:score=7]]"))["score"] == 7);
    CHECK(openai_verdict(ask_openai(server, "Scale: 1-5 [[fake:reply=out_of_range]]"))["score"] == 10);
    std::string fenced = openai_text(ask_openai(server, "Scale: 1-5 [[fake:reply=fenced]] [[fake:score=2]]"));
    CHECK(fenced.find("```json\n{\"reason\": \"fake judge: deterministic score\", \"score\": 2}\n```") !=
          std::string::npos);
    CHECK(json::parse(fenced, nullptr, false).is_discarded());
  }

  SECTION("body markers break the reply itself") {
    HttpReply html = ask_openai(server, "[[fake:body=not_json]]");
    CHECK(html.status == 200);
    CHECK(html.header("content-type") == "text/html");
    CHECK(html.body == "<html>oops</html>");
    HttpReply error_object = ask_openai(server, "[[fake:body=error_object]]");
    CHECK(error_object.status == 200);
    CHECK(json::parse(error_object.body)["error"]["message"] == "model overloaded");
  }

  SECTION("delay_ms holds one reply back") {
    auto start = std::chrono::steady_clock::now();
    CHECK(ask_openai(server, "[[fake:delay_ms=200]]").status == 200);
    CHECK(std::chrono::steady_clock::now() - start >= std::chrono::milliseconds(200));
  }
}

TEST_CASE("Fake provider checks keys only when started with --api-key", "[fakes][fake_provider]") {
  SECTION("with --api-key") {
    FakeProviderServer server({"--api-key", "sk-right"});
    HttpReply wrong = ask_openai_messages(server, json::array({user("x")}), "sk-wrong");
    CHECK(wrong.status == 401);
    CHECK(json::parse(wrong.body)["error"]["code"] == "invalid_api_key");
    CHECK(ask_openai_messages(server, json::array({user("x")}), "sk-right").status == 200);

    HttpReply missing = ask_anthropic(server, "x", {"anthropic-version: 2023-06-01"});
    CHECK(missing.status == 401);
    CHECK(json::parse(missing.body)["error"]["type"] == "authentication_error");
    CHECK(ask_anthropic(server, "x", {"x-api-key: sk-right", "anthropic-version: 2023-06-01"}).status == 200);
  }
  SECTION("without --api-key any key passes") {
    FakeProviderServer server;
    CHECK(ask_openai_messages(server, json::array({user("x")}), "anything").status == 200);
  }
}

TEST_CASE("Fake provider rejects bad requests and unknown paths", "[fakes][fake_provider]") {
  FakeProviderServer server;
  HttpReply bad_json = http_request("POST", server.base_url_openai() + "/chat/completions", "{not json");
  CHECK(bad_json.status == 400);
  CHECK(json::parse(bad_json.body)["error"]["type"] == "invalid_request_error");
  HttpReply no_messages = http_request("POST", server.base_url_openai() + "/chat/completions", R"({"model":"m"})");
  CHECK(no_messages.status == 400);
  CHECK(http_request("POST", server.url("/v2/nothing"), "{}").status == 404);
}

TEST_CASE("Fake provider counts requests in /stats and resets them", "[fakes][fake_provider]") {
  FakeProviderServer server;
  ask_openai(server, "a");
  ask_openai(server, "b [[fake:status=500]]");
  ask_anthropic(server, "c");
  http_request("GET", server.url("/nowhere"));

  json stats = server.stats();
  CHECK(stats["requests"] == 4);
  CHECK(stats["in_flight"] == 0);
  CHECK(stats["by_path"]["/v1/chat/completions"] == 2);
  CHECK(stats["by_path"]["/v1/messages"] == 1);
  CHECK(stats["status_counts"]["200"] == 2);
  CHECK(stats["status_counts"]["500"] == 1);
  CHECK(stats["status_counts"]["404"] == 1);

  server.reset_stats();
  stats = server.stats();
  CHECK(stats["requests"] == 0);
  CHECK(stats["status_counts"].empty());
}

TEST_CASE("Fake provider holds concurrent requests in flight during its latency", "[fakes][fake_provider]") {
  FakeProviderServer server({"--latency-ms", "300"});
  constexpr int kRequests = 20;
  const std::string url = server.base_url_openai() + "/chat/completions";
  const std::string body = openai_body(json::array({user("Scale: 1-5\nconcurrent")}));

  using EasyPtr = std::unique_ptr<CURL, decltype(&curl_easy_cleanup)>;
  std::unique_ptr<CURLM, decltype(&curl_multi_cleanup)> multi(curl_multi_init(), &curl_multi_cleanup);
  std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)> headers(
      curl_slist_append(nullptr, "Content-Type: application/json"), &curl_slist_free_all);
  std::vector<EasyPtr> handles;
  auto discard = +[](char*, std::size_t size, std::size_t count, void*) { return size * count; };
  for (int i = 0; i < kRequests; ++i) {
    handles.emplace_back(curl_easy_init(), &curl_easy_cleanup);
    CURL* h = handles.back().get();
    curl_easy_setopt(h, CURLOPT_URL, url.c_str());
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, body.c_str());
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers.get());
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 10000L);
    curl_easy_setopt(h, CURLOPT_NOPROXY, "*");
    curl_multi_add_handle(multi.get(), h);
  }

  auto start = std::chrono::steady_clock::now();
  int running = 0;
  do {
    curl_multi_perform(multi.get(), &running);
    if (running > 0) curl_multi_poll(multi.get(), nullptr, 0, 1000, nullptr);
  } while (running > 0);
  auto elapsed = std::chrono::steady_clock::now() - start;

  int ok = 0;
  for (auto& handle : handles) {
    long status = 0;
    curl_easy_getinfo(handle.get(), CURLINFO_RESPONSE_CODE, &status);
    ok += status == 200 ? 1 : 0;
    curl_multi_remove_handle(multi.get(), handle.get());
  }
  CHECK(ok == kRequests);
  CHECK(elapsed < std::chrono::milliseconds(kRequests * 300 / 4));  // serial would take 6 s
  json stats = server.stats();
  CHECK(stats["max_in_flight"].get<int>() >= 10);
  CHECK(stats["requests"] == kRequests);
}

TEST_CASE("Fake provider seeds its injected errors", "[fakes][fake_provider]") {
  auto statuses = [](const std::vector<std::string>& flags) {
    FakeProviderServer server(flags);
    std::vector<long> seen;
    for (int i = 0; i < 30; ++i) seen.push_back(ask_openai(server, "x").status);
    return seen;
  };
  auto first = statuses({"--error-rate", "0.3", "--rate-429", "0.2", "--seed", "7"});
  CHECK(first == statuses({"--error-rate", "0.3", "--rate-429", "0.2", "--seed", "7"}));
  CHECK(std::count(first.begin(), first.end(), 500L) > 0);
  CHECK(std::count(first.begin(), first.end(), 429L) > 0);
  CHECK(std::count(first.begin(), first.end(), 200L) > 0);
}

TEST_CASE("Fake provider exits 0 on SIGTERM", "[fakes][fake_provider]") {
  FakeProviderServer server;
  CHECK(ask_openai(server, "x").status == 200);
  CHECK(server.stop() == 0);
}

TEST_CASE("Fake provider --rpm admits a full bucket's burst, then 429s until it refills", "[fakes][fake_provider]") {
  // 300 a minute with 2 s of burst: 5 a second into a bucket of 10. Ten requests take far less
  // than the 200 ms that would refill one more.
  FakeProviderServer server({"--rpm", "300", "--burst-s", "2"});
  for (int i = 0; i < 10; ++i) REQUIRE(ask_openai(server, "burst " + std::to_string(i)).status == 200);

  HttpReply refused = ask_openai(server, "one too many");
  REQUIRE(refused.status == 429);
  CHECK(json::parse(refused.body)["error"]["type"] == "rate_limit_exceeded");
  long wait_ms = header_number(refused, "retry-after-ms");
  CHECK(wait_ms > 0);
  CHECK(wait_ms <= 200);
  CHECK(refused.header("retry-after") == "1");

  // A refused request costs nothing, so asking again does not push the wait back.
  HttpReply again = ask_anthropic(server, "still too many");
  REQUIRE(again.status == 429);
  CHECK(json::parse(again.body)["error"]["type"] == "rate_limit_error");
  CHECK(header_number(again, "retry-after-ms") <= wait_ms);

  std::this_thread::sleep_for(std::chrono::milliseconds(wait_ms + 30));
  CHECK(ask_openai(server, "refilled").status == 200);
  CHECK(ask_openai(server, "but only one").status == 429);

  json stats = server.stats();
  CHECK(stats["rate_limited"] == 3);
  CHECK(stats["status_counts"]["429"] == 3);
  CHECK(stats["status_counts"]["200"] == 11);
}

TEST_CASE("Fake provider --tpm charges the tokens the reply's usage reports", "[fakes][fake_provider]") {
  // A tiny prompt: nearly all of the charge is the completion, which a prompt-only count misses.
  const std::string small = "x";
  int per_request = 0;
  {
    FakeProviderServer unlimited;
    HttpReply reply = ask_openai(unlimited, small);
    REQUIRE(reply.status == 200);
    per_request = json::parse(reply.body)["usage"]["total_tokens"].get<int>();
  }
  REQUIRE(per_request > 4);
  // A bucket of 2.5 requests that takes 10 s to refill: two pass, the third waits ~2 s.
  const int tpm = per_request * 15;
  FakeProviderServer server({"--tpm", std::to_string(tpm), "--burst-s", "10"});
  CHECK(ask_openai(server, small).status == 200);
  CHECK(ask_openai(server, small).status == 200);
  HttpReply refused = ask_openai(server, small);
  REQUIRE(refused.status == 429);
  CHECK(header_number(refused, "retry-after-ms") > 1800);
  CHECK(header_number(refused, "retry-after-ms") <= 2000);
  CHECK(refused.header("retry-after") == "2");
  CHECK(json::parse(refused.body)["error"]["message"].get<std::string>().find("TPM") != std::string::npos);

  SECTION("a request bigger than the bucket passes when the bucket is full, and leaves a debt") {
    server.reset_stats();  // refills the bucket
    HttpReply big = ask_openai(server, std::string(per_request * 20, 'y'));
    REQUIRE(big.status == 200);
    CHECK(json::parse(big.body)["usage"]["total_tokens"].get<int>() > per_request * 3);
    HttpReply after = ask_openai(server, small);
    REQUIRE(after.status == 429);
    CHECK(header_number(after, "retry-after-ms") > 15000);  // the debt has to be paid back first
  }
}

TEST_CASE("Fake provider /control mode fail answers every API request with one status", "[fakes][fake_provider]") {
  FakeProviderServer server({"--latency-ms", "50"});
  server.control({{"mode", "fail"}, {"status", 503}});
  auto start = std::chrono::steady_clock::now();
  HttpReply openai = ask_openai(server, "Scale: 1-5");
  CHECK(std::chrono::steady_clock::now() - start >= std::chrono::milliseconds(50));  // after the latency
  CHECK(openai.status == 503);
  CHECK(json::parse(openai.body)["error"]["type"] == "server_error");
  HttpReply anthropic = ask_anthropic(server, "Scale: 1-5");
  CHECK(anthropic.status == 503);
  CHECK(json::parse(anthropic.body)["error"]["type"] == "overloaded_error");

  server.control({{"mode", "fail"}});
  CHECK(ask_openai(server, "x").status == 500);
  server.control({{"mode", "ok"}});
  CHECK(ask_openai(server, "x").status == 200);

  SECTION("bad bodies get a 400 with a message and change nothing") {
    server.control({{"mode", "fail"}});
    for (const std::string body : {"{not json", R"({"mode": "sideways"})", R"({"mode": "ok", "status": 503})",
                                   R"({"throttle_ms": -1})", R"({"mood": "ok"})", "[]"}) {
      HttpReply reply = http_request("POST", server.url("/control"), body);
      CHECK(reply.status == 400);
      CHECK_FALSE(json::parse(reply.body)["error"]["message"].get<std::string>().empty());
    }
    CHECK_THROWS(server.control({{"mode", "sideways"}}));
    CHECK(ask_openai(server, "x").status == 500);
  }
  SECTION("/stats/reset sets mode ok; /control calls are not API requests") {
    server.control({{"mode", "fail"}});
    server.reset_stats();
    CHECK(ask_openai(server, "x").status == 200);
    json stats = server.stats();
    CHECK(stats["requests"] == 1);
    CHECK(stats["mode"] == "ok");
  }
}

TEST_CASE("Fake provider mode hang holds requests until the client hangs up, and logs it", "[fakes][fake_provider]") {
  FakeProviderServer server;
  server.control({{"mode", "hang"}});
  HttpReply reply = http_request("POST", server.base_url_openai() + "/chat/completions",
                                 openai_body(json::array({user("x")})), {}, std::chrono::milliseconds(200));
  CHECK(reply.status == 0);  // the client timed out

  json entry = finished_log_entry(server, 0);
  CHECK(entry["path"] == "/v1/chat/completions");
  CHECK(entry["client_closed"] == true);
  CHECK(entry["status"] == 0);
  CHECK(held_ms(entry) >= 190);
  CHECK(held_ms(entry) < 400);
  CHECK(server.stats()["in_flight"] == 0);

  // The server goes on, and a request arriving after the switch back is answered.
  server.control({{"mode", "ok"}});
  CHECK(ask_openai(server, "x").status == 200);
  json second = finished_log_entry(server, 1);
  CHECK(second["status"] == 200);
  CHECK(second["client_closed"] == false);
}

TEST_CASE("Fake provider drops a delayed reply whose client hung up, and keeps serving", "[fakes][fake_provider]") {
  FakeProviderServer server({"--latency-ms", "300"});
  HttpReply gave_up = http_request("POST", server.base_url_openai() + "/chat/completions",
                                   openai_body(json::array({user("x")})), {}, std::chrono::milliseconds(100));
  CHECK(gave_up.status == 0);
  json entry = finished_log_entry(server, 0);
  CHECK(entry["client_closed"] == true);
  CHECK(entry["status"] == 0);
  CHECK(held_ms(entry) < 250);  // the hang-up, not the latency, ended it

  // The cancelled timer's moment passes; a freed request must not be answered then.
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  CHECK(ask_openai(server, "x").status == 200);
  json stats = server.stats();
  CHECK(stats["in_flight"] == 0);
  CHECK(stats["status_counts"]["200"] == 1);
  CHECK(stats["status_counts"].size() == 1);
}

TEST_CASE("Fake provider /control throttle_ms answers 429 until the window ends", "[fakes][fake_provider]") {
  FakeProviderServer server({"--latency-ms", "100"});
  server.control({{"throttle_ms", 300}});
  auto start = std::chrono::steady_clock::now();
  HttpReply throttled = ask_openai(server, "x");
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::milliseconds(100));  // no latency
  REQUIRE(throttled.status == 429);
  long remaining_ms = header_number(throttled, "retry-after-ms");
  CHECK(remaining_ms > 150);
  CHECK(remaining_ms <= 300);
  CHECK(throttled.header("retry-after") == "1");
  CHECK(ask_anthropic(server, "x").status == 429);

  std::this_thread::sleep_for(std::chrono::milliseconds(remaining_ms + 20));
  CHECK(ask_openai(server, "x").status == 200);
  json stats = server.stats();
  CHECK(stats["throttled"] == 2);
  CHECK(stats["rate_limited"] == 0);
}

TEST_CASE("Fake provider /log lists API requests in arrival order with their outcome", "[fakes][fake_provider]") {
  FakeProviderServer server({"--latency-ms", "20"});
  ask_openai(server, "a");
  ask_openai(server, "b [[fake:status=500]]");
  ask_anthropic(server, "c");
  server.stats();                               // not an API request
  http_request("GET", server.url("/nowhere"));  // nor is a 404

  json log = server.log();
  json requests = log["requests"];
  REQUIRE(requests.size() == 3);
  CHECK(requests[0]["path"] == "/v1/chat/completions");
  CHECK(requests[1]["status"] == 500);
  CHECK(requests[2]["path"] == "/v1/messages");
  CHECK(requests[2]["status"] == 200);
  double previous = 0;
  for (const json& entry : requests) {
    CHECK(entry["client_closed"] == false);
    CHECK(entry["arrived_ms"].get<double>() >= previous);
    CHECK(held_ms(entry) >= 19.5);
    previous = entry["finished_ms"].get<double>();
  }
  CHECK(log["now_ms"].get<double>() >= previous);
  CHECK(log["log_dropped"] == 0);
  CHECK(server.stats()["now_ms"].get<double>() >= log["now_ms"].get<double>());

  server.reset_stats();
  CHECK(server.log()["requests"].empty());
}

TEST_CASE("Fake provider retry_after_ms marker sets retry-after-ms and retry-after", "[fakes][fake_provider]") {
  FakeProviderServer server;
  HttpReply throttled = ask_openai(server, "x [[fake:status=429]] [[fake:retry_after_ms=2500]]");
  CHECK(throttled.status == 429);
  CHECK(throttled.header("retry-after-ms") == "2500");
  CHECK(throttled.header("retry-after") == "3");

  HttpReply overloaded = ask_anthropic(server, "x [[fake:status=529]] [[fake:retry_after_ms=1000]]");
  CHECK(overloaded.status == 529);
  CHECK(overloaded.header("retry-after-ms") == "1000");
  CHECK(overloaded.header("retry-after") == "1");

  HttpReply plain = ask_openai(server, "x [[fake:status=429]]");
  CHECK(plain.header("retry-after") == "1");
  CHECK(plain.header("retry-after-ms").empty());
}

TEST_CASE("Fake provider hostile-reply markers send what they say", "[fakes][fake_provider]") {
  FakeProviderServer server;
  SECTION("body=html: a proxy's error page, as a 200 or with the scripted status") {
    HttpReply page = ask_openai(server, "[[fake:body=html]] x");
    CHECK(page.status == 200);
    CHECK(page.header("content-type") == "text/html");
    CHECK(page.body.find("<title>200 OK</title>") != std::string::npos);
    HttpReply gateway = ask_openai(server, "[[fake:status=502]] [[fake:body=html]] x");
    CHECK(gateway.status == 502);
    CHECK(gateway.body.find("<h1>502 Bad Gateway</h1>") != std::string::npos);
  }
  SECTION("content_type=T changes only the header") {
    HttpReply reply = ask_openai(server, "[[fake:content_type=text/plain]] Scale: 1-5");
    CHECK(reply.status == 200);
    CHECK(reply.header("content-type") == "text/plain");
    CHECK(openai_verdict(reply).contains("score"));
  }
  SECTION("body=cut: half a completion under a matching Content-Length") {
    HttpReply whole = ask_openai(server, "x");
    HttpReply cut = ask_openai(server, "[[fake:body=cut]] x");
    CHECK(cut.status == 200);
    CHECK(cut.body.size() == whole.body.size() / 2);
    CHECK(json::parse(cut.body, nullptr, false).is_discarded());
  }
  SECTION("body=truncated: the connection closes before the Content-Length is reached") {
    HttpReply truncated = ask_openai(server, "[[fake:body=truncated]] x");
    CHECK(truncated.status == 0);
    CHECK(truncated.error == curl_easy_strerror(CURLE_PARTIAL_FILE));
  }
  SECTION("body=huge and huge_chunked: a 50 MiB completion, with and without a length") {
    for (const std::string marker : {"huge", "huge_chunked"}) {
      INFO(marker);
      HttpReply huge = ask_openai(server, "[[fake:body=" + marker + "]] x");
      REQUIRE(huge.status == 200);
      CHECK(huge.body.size() > 50u * 1024 * 1024);
      CHECK(huge.header("content-length").empty() == (marker == "huge_chunked"));
      CHECK(openai_text(huge) == std::string(50u * 1024 * 1024, 'x'));
    }
  }
  SECTION("reply=no_score: a verdict without a score") {
    json verdict = openai_verdict(ask_openai(server, "[[fake:reply=no_score]] x"));
    CHECK_FALSE(verdict.contains("score"));
    CHECK(verdict["reason"].is_string());
  }
}

// ---- the vendors' parameter rules, chosen by model name ----

namespace {

// A chat completion for model with the given extra fields; one user message, and a system
// message when given.
json chat(const std::string& model, const json& extra = json::object(), const std::string& system = "") {
  json messages = json::array();
  if (!system.empty()) messages.push_back({{"role", "system"}, {"content", system}});
  messages.push_back(user("Scale: 1-10\nAnswer: Paris"));
  json body{{"model", model}, {"messages", messages}};
  body.update(extra);
  return body;
}

HttpReply post_openai(const FakeProviderServer& server, const json& body,
                      std::vector<std::string> headers = {"Authorization: Bearer k"}) {
  return http_request("POST", server.url("/v1/chat/completions"), body.dump(), headers);
}

HttpReply post_anthropic(const FakeProviderServer& server, const json& body) {
  return http_request("POST", server.url("/v1/messages"), body.dump(), {"x-api-key: k", "anthropic-version: 2023-06-01"});
}

json messages_request(const std::string& model, const json& extra = json::object()) {
  json body{{"model", model}, {"max_tokens", 1024}, {"messages", json::array({user("Scale: 1-5\nAnswer: 4")})}};
  body.update(extra);
  return body;
}

const json kMaxTokensRefused = json::parse(R"({"error": {
  "message": "Unsupported parameter: 'max_tokens' is not supported with this model. Use 'max_completion_tokens' instead.",
  "type": "invalid_request_error", "param": "max_tokens", "code": "unsupported_parameter"}})");

json temperature_refused(const std::string& value) {
  return {{"error",
           {{"message", "Unsupported value: 'temperature' does not support " + value +
                            " with this model. Only the default (1) value is supported."},
            {"type", "invalid_request_error"},
            {"param", "temperature"},
            {"code", "unsupported_value"}}}};
}

json verdict_schema(bool strict, const json& schema) {
  return {{"response_format",
           {{"type", "json_schema"}, {"json_schema", {{"name", "verdict"}, {"strict", strict}, {"schema", schema}}}}}};
}

const json kGoodSchema = json::parse(R"({"type": "object", "additionalProperties": false,
  "properties": {"reason": {"type": "string"}, "score": {"type": "integer", "enum": [2, 4, 6]}},
  "required": ["reason", "score"]})");

}  // namespace

TEST_CASE("Fake provider holds OpenAI reasoning models to max_completion_tokens and temperature 1",
          "[fakes][fake_provider]") {
  FakeProviderServer server;

  SECTION("gpt-5-mini refuses max_tokens with OpenAI's body and accepts max_completion_tokens") {
    HttpReply refused = post_openai(server, chat("gpt-5-mini", {{"max_tokens", 1000}}));
    CHECK(refused.status == 400);
    CHECK(json::parse(refused.body) == kMaxTokensRefused);
    // The vendor's field order, too.
    CHECK(refused.body.find(R"({"error":{"message":)") == 0);

    HttpReply ok = post_openai(server, chat("openai/GPT-5-mini", {{"max_completion_tokens", 4000}}));
    REQUIRE(ok.status == 200);
    json body = json::parse(ok.body);
    CHECK(body["model"] == "openai/GPT-5-mini");
    CHECK(body["choices"][0]["finish_reason"] == "stop");
    int text_tokens = static_cast<int>(openai_text(ok).size() / 4);
    CHECK(body["usage"]["completion_tokens"] == text_tokens + 600);
    CHECK(body["usage"]["completion_tokens_details"]["reasoning_tokens"] == 600);
  }

  SECTION("o4-mini refuses a temperature other than 1, echoing it as sent") {
    HttpReply zero = post_openai(server, chat("o4-mini", {{"temperature", 0}}));
    CHECK(zero.status == 400);
    CHECK(json::parse(zero.body) == temperature_refused("0"));
    HttpReply raw = http_request("POST", server.url("/v1/chat/completions"),
                                 R"({"model":"o3","temperature": 0.20,"messages":[{"role":"user","content":"x"}]})");
    CHECK(json::parse(raw.body) == temperature_refused("0.20"));
    CHECK(post_openai(server, chat("o4-mini", {{"temperature", 1}})).status == 200);
    CHECK(post_openai(server, chat("gpt-4o", {{"temperature", 0}, {"max_tokens", 100}})).status == 200);
  }

  SECTION("a small cap is spent on reasoning: empty content, finish_reason length") {
    HttpReply cut = post_openai(server, chat("gpt-5-nano", {{"max_completion_tokens", 512}}));
    REQUIRE(cut.status == 200);
    json body = json::parse(cut.body);
    CHECK(openai_text(cut).empty());
    CHECK(body["choices"][0]["finish_reason"] == "length");
    CHECK(body["usage"]["completion_tokens"] == 512);
    CHECK(body["usage"]["completion_tokens_details"]["reasoning_tokens"] == 512);

    HttpReply marker = post_openai(server, {{"model", "o3-mini"},
                                            {"max_completion_tokens", 512},
                                            {"messages", json::array({user("Scale: 1-5 [[fake:reasoning=100]]")})}});
    json marked = json::parse(marker.body);
    CHECK(marked["choices"][0]["finish_reason"] == "stop");
    CHECK(marked["usage"]["completion_tokens_details"]["reasoning_tokens"] == 100);
  }

  SECTION("--reasoning-tokens sets R") {
    FakeProviderServer cheap({"--reasoning-tokens", "10"});
    HttpReply reply = post_openai(cheap, chat("o1", {{"max_completion_tokens", 100}}));
    CHECK(json::parse(reply.body)["usage"]["completion_tokens_details"]["reasoning_tokens"] == 10);
  }
}

TEST_CASE("Fake provider reports cached prompt tokens for a repeated long system prompt", "[fakes][fake_provider]") {
  FakeProviderServer server;
  const std::string long_system = "Judge answers in JSON. " + std::string(6000, 's');  // > 1024 tokens
  auto usage = [&](const std::string& model, const std::string& system) {
    HttpReply reply = post_openai(server, chat(model, json::object(), system));
    REQUIRE(reply.status == 200);
    return json::parse(reply.body)["usage"];
  };
  json first = usage("gpt-4o", long_system);
  CHECK(first["prompt_tokens_details"]["cached_tokens"] == 0);
  json second = usage("gpt-4o", long_system);
  const int system_tokens = static_cast<int>(long_system.size() / 4);
  CHECK(second["prompt_tokens_details"]["cached_tokens"] == system_tokens / 128 * 128);
  CHECK(second["prompt_tokens"] == first["prompt_tokens"]);  // cached tokens still count
  CHECK(second["prompt_tokens"].get<int>() >= system_tokens);
  CHECK(usage("gpt-4.1", long_system)["prompt_tokens_details"]["cached_tokens"] == 0);  // per model
  CHECK(usage("gpt-4o", "short JSON prompt")["prompt_tokens_details"]["cached_tokens"] == 0);
  CHECK(usage("gpt-4o", "short JSON prompt")["prompt_tokens_details"]["cached_tokens"] == 0);  // < 1024
  server.reset_stats();
  CHECK(usage("gpt-4o", long_system)["prompt_tokens_details"]["cached_tokens"] == 0);
}

TEST_CASE("Fake provider checks response_format like OpenAI", "[fakes][fake_provider]") {
  FakeProviderServer server;

  SECTION("json_object needs the word json in the messages") {
    HttpReply refused = post_openai(server, chat("gpt-4o-mini", {{"response_format", {{"type", "json_object"}}}}));
    CHECK(refused.status == 400);
    CHECK(json::parse(refused.body) == json::parse(R"({"error": {"message":
      "'messages' must contain the word 'json' in some form, to use 'response_format' of type 'json_object'.",
      "type": "invalid_request_error", "param": "messages", "code": null}})"));
    CHECK(post_openai(server, chat("gpt-4o-mini", {{"response_format", {{"type", "json_object"}}}}, "Reply in Json."))
              .status == 200);
  }

  SECTION("strict json_schema: objects closed and fully required") {
    HttpReply ok = post_openai(server, chat("gpt-4o", verdict_schema(true, kGoodSchema)));
    REQUIRE(ok.status == 200);
    int score = openai_verdict(ok)["score"].get<int>();
    CHECK((score == 2 || score == 4 || score == 6));  // held to the enum

    json open = kGoodSchema;
    open.erase("additionalProperties");
    HttpReply not_closed = post_openai(server, chat("gpt-4o", verdict_schema(true, open)));
    CHECK(not_closed.status == 400);
    json error = json::parse(not_closed.body)["error"];
    CHECK(error["message"].get<std::string>().rfind("Invalid schema for response_format 'verdict': ", 0) == 0);
    CHECK(error["type"] == "invalid_request_error");
    CHECK(error["param"] == "response_format");
    CHECK(error["code"].is_null());

    json partial = kGoodSchema;
    partial["required"] = {"reason"};
    HttpReply not_required = post_openai(server, chat("gpt-4o", verdict_schema(true, partial)));
    CHECK(not_required.status == 400);
    CHECK(json::parse(not_required.body)["error"]["message"].get<std::string>().find("'score'") != std::string::npos);

    CHECK(post_openai(server, chat("gpt-4o", verdict_schema(false, partial))).status == 200);  // not strict
    json bad_name = verdict_schema(true, kGoodSchema);
    bad_name["response_format"]["json_schema"]["name"] = "my verdict";
    CHECK(post_openai(server, chat("gpt-4o", bad_name)).status == 400);
    CHECK(post_openai(server, chat("gpt-4o", {{"response_format", {{"type", "yaml"}}}})).status == 400);
  }
}

TEST_CASE("Fake provider --refuse makes an unknown model refuse fields, in a fixed order", "[fakes][fake_provider]") {
  FakeProviderServer server({"--refuse", "temperature,max_completion_tokens,response_format,reasoning_effort"});
  HttpReply temperature = post_openai(server, chat("my-local-model", {{"temperature", 0.2}, {"max_tokens", 50}}));
  CHECK(temperature.status == 400);
  CHECK(json::parse(temperature.body) == temperature_refused("0.2"));

  HttpReply completion = post_openai(server, chat("my-local-model", {{"temperature", 0}, {"max_completion_tokens", 50}}));
  CHECK(json::parse(completion.body) ==
        json::parse(R"({"error": {"message": "Unsupported parameter: 'max_completion_tokens' is not supported with this model. Use 'max_tokens' instead.",
          "type": "invalid_request_error", "param": "max_completion_tokens", "code": "unsupported_parameter"}})"));

  HttpReply format = post_openai(server, chat("my-local-model", {{"response_format", {{"type", "json_object"}}}}));
  CHECK(json::parse(format.body) ==
        json::parse(R"({"error": {"message": "Unsupported parameter: 'response_format' is not supported with this model.",
          "type": "invalid_request_error", "param": "response_format", "code": "unsupported_parameter"}})"));
  HttpReply effort = post_openai(server, chat("my-local-model", {{"reasoning_effort", "low"}}));
  CHECK(json::parse(effort.body)["error"]["param"] == "reasoning_effort");

  CHECK(post_openai(server, chat("my-local-model", {{"max_tokens", 50}})).status == 200);  // not listed
  CHECK(post_openai(server, chat("gpt-4o", {{"temperature", 0}, {"max_completion_tokens", 50}})).status == 200);

  HttpReply anthropic = post_anthropic(server, messages_request("my-local-model", {{"temperature", 0}}));
  CHECK(anthropic.status == 400);
  CHECK(json::parse(anthropic.body)["error"]["message"] == "`temperature` is deprecated for this model.");
  CHECK(post_anthropic(server, messages_request("claude-sonnet-4-5", {{"temperature", 0}})).status == 200);
}

TEST_CASE("Fake provider --flavor ollama ignores max_completion_tokens and honours max_tokens", "[fakes][fake_provider]") {
  FakeProviderServer server({"--flavor", "ollama"});
  HttpReply ignored = post_openai(server, chat("gpt-5-mini", {{"max_completion_tokens", 1}, {"temperature", 0}}));
  REQUIRE(ignored.status == 200);
  json body = json::parse(ignored.body);
  CHECK(body["choices"][0]["finish_reason"] == "stop");
  CHECK(openai_verdict(ignored).contains("score"));
  CHECK_FALSE(body["usage"].contains("prompt_tokens_details"));
  CHECK_FALSE(body["usage"].contains("completion_tokens_details"));
  CHECK(body["usage"]["completion_tokens"].get<int>() < 100);  // no reasoning spent

  HttpReply capped = post_openai(server, chat("llama3.1", {{"max_tokens", 3}}));
  json capped_body = json::parse(capped.body);
  CHECK(capped_body["choices"][0]["finish_reason"] == "length");
  CHECK(capped_body["usage"]["completion_tokens"] == 3);

  json schema = verdict_schema(true, kGoodSchema);
  schema["response_format"]["json_schema"].erase("name");  // Ollama ignores name and strict
  HttpReply structured = post_openai(server, chat("llama3.1", schema));
  REQUIRE(structured.status == 200);
  int score = openai_verdict(structured)["score"].get<int>();
  CHECK((score == 2 || score == 4 || score == 6));
}

TEST_CASE("Fake provider serves Azure OpenAI's deployment and v1 paths", "[fakes][fake_provider]") {
  FakeProviderServer server({"--api-key", "az-key", "--azure-deployment", "judge=gpt-5-mini"});
  const std::string deployment = server.url("/openai/deployments/judge/chat/completions");
  const std::string body = json{{"messages", json::array({user("Scale: 1-5\nx")})}, {"max_completion_tokens", 4000}}.dump();

  HttpReply ok = http_request("POST", deployment + "?api-version=2024-10-21", body, {"api-key: az-key"});
  REQUIRE(ok.status == 200);
  json reply = json::parse(ok.body);
  CHECK(reply["model"] == "gpt-5-mini");
  CHECK(reply["usage"]["completion_tokens_details"]["reasoning_tokens"] == 600);

  HttpReply no_version = http_request("POST", deployment, body, {"api-key: az-key"});
  CHECK(no_version.status == 404);
  CHECK(json::parse(no_version.body) == json::parse(R"({"error":{"code":"404","message":"Resource not found"}})"));

  HttpReply bearer = http_request("POST", deployment + "?api-version=2024-10-21", body, {"Authorization: Bearer az-key"});
  CHECK(bearer.status == 401);
  CHECK(json::parse(bearer.body)["error"]["code"] == "401");
  CHECK(json::parse(bearer.body)["error"]["message"].get<std::string>().rfind("Access denied due to invalid subscription key", 0) == 0);

  // The mapped model's rules apply: gpt-5-mini refuses max_tokens.
  std::string with_max_tokens = json{{"messages", json::array({user("x")})}, {"max_tokens", 100}}.dump();
  HttpReply refused = http_request("POST", deployment + "?api-version=2024-10-21", with_max_tokens, {"api-key: az-key"});
  CHECK(refused.status == 400);
  CHECK(json::parse(refused.body) == kMaxTokensRefused);

  // An unmapped deployment is its own model name.
  HttpReply plain = http_request("POST", server.url("/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21"),
                                 with_max_tokens, {"api-key: az-key"});
  CHECK(plain.status == 200);
  CHECK(json::parse(plain.body)["model"] == "gpt-4o");

  HttpReply v1 = http_request("POST", server.url("/openai/v1/chat/completions"), chat("gpt-4o").dump(), {"api-key: az-key"});
  CHECK(v1.status == 200);
  CHECK(http_request("POST", server.url("/openai/v1/chat/completions"), chat("gpt-4o").dump()).status == 401);

  json stats = server.stats();
  CHECK(stats["by_path"]["/openai/deployments/judge/chat/completions"] == 4);
  CHECK(server.log()["requests"][0]["path"] == "/openai/deployments/judge/chat/completions");
}

TEST_CASE("Fake provider holds Claude models to Anthropic's temperature and output_config rules", "[fakes][fake_provider]") {
  FakeProviderServer server;

  SECTION("Opus 4.7+ and Claude 5 refuse temperature; Sonnet 4.5 takes 0") {
    HttpReply refused = post_anthropic(server, messages_request("claude-opus-4-7", {{"temperature", 0}}));
    CHECK(refused.status == 400);
    json body = json::parse(refused.body);
    CHECK(body["type"] == "error");
    CHECK(body["error"] == json{{"type", "invalid_request_error"}, {"message", "`temperature` is deprecated for this model."}});
    CHECK(body["request_id"].get<std::string>().rfind("req_fake", 0) == 0);
    CHECK(body.size() == 3);
    for (const std::string model : {"claude-opus-4-8", "claude-sonnet-5", "claude-opus-5-5", "claude-fable-5",
                                    "claude-haiku-5-5", "anthropic/claude-opus-5"}) {
      INFO(model);
      CHECK(post_anthropic(server, messages_request(model, {{"temperature", 1}})).status == 400);
      CHECK(post_anthropic(server, messages_request(model)).status == 200);
    }
    CHECK(post_anthropic(server, messages_request("claude-sonnet-4-5", {{"temperature", 0}})).status == 200);
    CHECK(post_anthropic(server, messages_request("claude-opus-4-6", {{"temperature", 0}})).status == 200);
  }

  SECTION("output_config.format on 4.5+ models; refused on older ones") {
    json schema = kGoodSchema;
    json format{{"output_config", {{"format", {{"type", "json_schema"}, {"schema", schema}}}, {"effort", "high"}}}};
    HttpReply ok = post_anthropic(server, messages_request("claude-sonnet-4-5-20250929", format));
    REQUIRE(ok.status == 200);
    int score = json::parse(json::parse(ok.body)["content"][0]["text"].get<std::string>())["score"].get<int>();
    CHECK((score == 2 || score == 4 || score == 6));

    for (const std::string model : {"claude-3-5-haiku-20241022", "claude-sonnet-4-0", "claude-opus-4-1"}) {
      INFO(model);
      HttpReply old = post_anthropic(server, messages_request(model, format));
      CHECK(old.status == 400);
      CHECK(json::parse(old.body)["error"]["message"] == "output_config.format: Extra inputs are not permitted");
    }

    json bounded = format;
    bounded["output_config"]["format"]["schema"]["properties"]["score"] = {{"type", "integer"}, {"minimum", 1}};
    HttpReply bounds = post_anthropic(server, messages_request("claude-sonnet-4-5", bounded));
    CHECK(bounds.status == 400);
    CHECK(json::parse(bounds.body)["error"]["message"].get<std::string>().find("output_config.format") != std::string::npos);

    json open = format;
    open["output_config"]["format"]["schema"].erase("additionalProperties");
    CHECK(post_anthropic(server, messages_request("claude-haiku-4-5", open)).status == 400);

    HttpReply effort = post_anthropic(server, messages_request("claude-opus-4-5", {{"output_config", {{"effort", "extreme"}}}}));
    CHECK(effort.status == 400);
    CHECK(json::parse(effort.body)["error"]["message"].get<std::string>().find("output_config.effort") != std::string::npos);
    HttpReply unknown = post_anthropic(server, messages_request("claude-opus-4-5", {{"output_config", {{"verbosity", "low"}}}}));
    CHECK(json::parse(unknown.body)["error"]["message"] == "output_config.verbosity: Extra inputs are not permitted");
  }
}

TEST_CASE("Fake provider caches an Anthropic system prefix marked with cache_control", "[fakes][fake_provider]") {
  FakeProviderServer server;
  const std::string big(5000 * 4, 'p');  // 5000 tokens
  json system = json::array({{{"type", "text"}, {"text", big}, {"cache_control", {{"type", "ephemeral"}}}},
                             {{"type", "text"}, {"text", "Scale: 1-5"}}});
  auto usage = [&](const std::string& model, const json& sys) {
    HttpReply reply = post_anthropic(server, messages_request(model, {{"system", sys}}));
    REQUIRE(reply.status == 200);
    json u = json::parse(reply.body)["usage"];
    CHECK(u.contains("cache_creation_input_tokens"));
    CHECK(u.contains("cache_read_input_tokens"));
    return u;
  };
  json first = usage("claude-sonnet-4-5", system);
  CHECK(first["cache_creation_input_tokens"] == 5000);
  CHECK(first["cache_read_input_tokens"] == 0);
  json second = usage("claude-sonnet-4-5", system);
  CHECK(second["cache_creation_input_tokens"] == 0);
  CHECK(second["cache_read_input_tokens"] == 5000);
  CHECK(second["input_tokens"] == first["input_tokens"]);
  CHECK(second["input_tokens"].get<int>() < 100);  // the rest, without the cached prefix

  // Below a model's minimum nothing is cached (haiku-4-5: 4096 tokens).
  json small = system;
  small[0]["text"] = std::string(3000 * 4, 'q');
  json haiku = usage("claude-haiku-4-5", small);
  CHECK(haiku["cache_creation_input_tokens"] == 0);
  CHECK(haiku["input_tokens"].get<int>() >= 3000);
  // Without a breakpoint, nothing either.
  CHECK(usage("claude-sonnet-4-5", json::array({{{"type", "text"}, {"text", big}}}))["cache_creation_input_tokens"] == 0);
}

TEST_CASE("Fake provider Claude thinking models spend reasoning tokens within max_tokens", "[fakes][fake_provider]") {
  FakeProviderServer server;
  HttpReply cut = post_anthropic(server, messages_request("claude-fable-5", {{"max_tokens", 256}}));
  REQUIRE(cut.status == 200);
  json body = json::parse(cut.body);
  CHECK(body["stop_reason"] == "max_tokens");
  REQUIRE(body["content"].size() == 1);
  CHECK(body["content"][0]["type"] == "thinking");
  CHECK(body["usage"]["output_tokens"] == 256);

  HttpReply whole = post_anthropic(server, messages_request("claude-opus-5-5", {{"max_tokens", 4096}}));
  json full = json::parse(whole.body);
  CHECK(full["stop_reason"] == "end_turn");
  REQUIRE(full["content"].size() == 2);
  CHECK(full["content"][0]["type"] == "thinking");
  CHECK(full["content"][0]["signature"] == "sig");
  std::string text = full["content"][1]["text"].get<std::string>();
  CHECK(full["usage"]["output_tokens"] == static_cast<int>(text.size() / 4) + 600);

  HttpReply plain = post_anthropic(server, messages_request("claude-opus-5", {{"max_tokens", 256}}));
  CHECK(json::parse(plain.body)["content"][0]["type"] == "text");  // not a thinking model
}

TEST_CASE("Fake provider /stats counts the fields requests carried", "[fakes][fake_provider]") {
  FakeProviderServer server;
  post_openai(server, chat("gpt-5-mini", {{"max_tokens", 10}, {"temperature", 0}}));  // refused, still counted
  post_openai(server, chat("gpt-5-mini", {{"max_completion_tokens", 4000}, {"reasoning_effort", "low"}}));
  post_openai(server, chat("gpt-4o", verdict_schema(true, kGoodSchema)));
  post_openai(server, chat("gpt-4o", {{"response_format", {{"type", "json_object"}}}}, "json please"));
  json cached_system = json::array({{{"type", "text"}, {"text", "s"}, {"cache_control", {{"type", "ephemeral"}}}}});
  post_anthropic(server, messages_request("claude-sonnet-4-5",
                                          {{"system", cached_system},
                                           {"output_config", {{"format", {{"type", "json_schema"}, {"schema", kGoodSchema}}}}}}));

  json sent = server.stats()["sent"];
  CHECK(sent["max_tokens"] == 2);  // the Anthropic request's too
  CHECK(sent["max_completion_tokens"] == 1);
  CHECK(sent["temperature"] == 1);
  CHECK(sent["reasoning_effort"] == 1);
  CHECK(sent["response_format_json_schema"] == 1);
  CHECK(sent["response_format_json_object"] == 1);
  CHECK(sent["output_config_format"] == 1);
  CHECK(sent["output_config_effort"] == 0);
  CHECK(sent["cache_control"] == 1);

  server.reset_stats();
  sent = server.stats()["sent"];
  for (const auto& item : sent.items()) CHECK(item.value() == 0);
}

// ---- juries and pairwise comparison: jurors that answer garbage or a fixed score; pairwise
// verdicts ----

namespace {

// A pairwise judge's user message, with its sections written the way llmeval writes them.
std::string pairwise_prompt(const std::string& answer_a, const std::string& answer_b) {
  return "<prompt>\nWhat is the capital of France?\n</prompt>\n\n<answer_a>\n" + answer_a + "\n</answer_a>\n\n" +
         "<answer_b>\n" + answer_b + "\n</answer_b>\n\nReply with only the JSON object.";
}

const json kPairwiseSchema = json::parse(R"({"type":"object","properties":{"reason":{"type":"string"},
  "winner":{"type":"string","enum":["A","B","tie"]}},"required":["reason","winner"],"additionalProperties":false})");

std::string anthropic_text(const HttpReply& reply) {
  return json::parse(reply.body)["content"][0]["text"].get<std::string>();
}

}  // namespace

TEST_CASE("Fake provider --verdict garbage answers prose to every judge request", "[fakes][fake_provider]") {
  FakeProviderServer server({"--verdict", "garbage"});
  const std::string score_text = "I would rather not give a number.";
  const std::string pairwise_text = "I would rather not pick either answer.";

  CHECK(openai_text(ask_openai(server, "Scale: 1-5\nAnswer: Paris")) == score_text);
  CHECK(openai_text(ask_openai(server, "Scale: 1-5 [[fake:score=4]] [[fake:reply=fenced]]")) == score_text);
  CHECK(anthropic_text(ask_anthropic(server, "Scale: 0-1\nAnswer: Paris")) == score_text);
  json repair = json::array({user("Scale: 1-5\nAnswer: Paris"), {{"role", "assistant"}, {"content", score_text}},
                             user("That was not JSON. Reply with only the JSON object.")});
  CHECK(openai_text(ask_openai_messages(server, repair)) == score_text);

  std::string pairwise = openai_text(ask_openai(server, pairwise_prompt("Paris", "Lyon")));
  CHECK(pairwise == pairwise_text);
  CHECK(pairwise.find('{') == std::string::npos);
  CHECK(anthropic_text(ask_anthropic(server, pairwise_prompt("Paris", "Lyon"))) == pairwise_text);

  // Faults still apply: a garbage juror can also fail.
  CHECK(ask_openai(server, "x [[fake:status=503]]").status == 503);
}

TEST_CASE("Fake provider --fixed-score answers one score unless a marker says otherwise", "[fakes][fake_provider]") {
  FakeProviderServer pass({"--fixed-score", "5"});
  FakeProviderServer fail({"--fixed-score=1"});
  for (int i = 0; i < 5; ++i) {
    std::string content = "Scale: 1-5\ncandidate " + std::to_string(i);
    CHECK(openai_verdict(ask_openai(pass, content))["score"] == 5);
    CHECK(openai_verdict(ask_openai(fail, content))["score"] == 1);
  }
  CHECK(json::parse(anthropic_text(ask_anthropic(pass, "Scale: 1-5\nx")))["score"] == 5);
  CHECK(openai_verdict(ask_openai(pass, "Scale: 1-5 [[fake:score=2]]"))["score"] == 2);  // the marker wins
  // Not held to a schema's enum (kGoodSchema allows 2, 4, 6).
  CHECK(openai_verdict(post_openai(pass, chat("gpt-4o", verdict_schema(true, kGoodSchema))))["score"] == 5);
}

TEST_CASE("Fake provider --pairwise first always picks the answer shown as A", "[fakes][fake_provider]") {
  FakeProviderServer server({"--pairwise", "first"});
  const std::string good = "Paris [[fake:quality=3]]";
  const std::string bad = "Lyon [[fake:quality=1]]";
  std::string text = openai_text(ask_openai(server, pairwise_prompt(good, bad)));
  CHECK(text == R"({"reason": "fake judge: the first answer shown", "winner": "A"})");
  CHECK(openai_verdict(ask_openai(server, pairwise_prompt(bad, good)))["winner"] == "A");
  CHECK(json::parse(anthropic_text(ask_anthropic(server, pairwise_prompt(bad, good))))["winner"] == "A");
}

TEST_CASE("Fake provider --pairwise better picks the higher quality marker in either order", "[fakes][fake_provider]") {
  FakeProviderServer server;  // better is the default
  const std::string good = "Paris [[fake:quality=3]]";
  const std::string bad = "Lyon [[fake:quality=1]]";

  SECTION("the quality-3 answer wins whether shown as A or as B") {
    std::string text = openai_text(ask_openai(server, pairwise_prompt(good, bad)));
    CHECK(text == R"({"reason": "fake judge: the higher quality marker", "winner": "A"})");
    CHECK(openai_verdict(ask_openai(server, pairwise_prompt(bad, good)))["winner"] == "B");
    CHECK(json::parse(anthropic_text(ask_anthropic(server, pairwise_prompt(good, bad))))["winner"] == "A");
    CHECK(json::parse(anthropic_text(ask_anthropic(server, pairwise_prompt(bad, good))))["winner"] == "B");
    CHECK(openai_verdict(ask_openai(server, pairwise_prompt("Paris [[fake:quality=2]]", "Lyon")))["winner"] == "A");
    CHECK(openai_verdict(ask_openai(server, pairwise_prompt("Lyon", "Paris [[fake:quality=-1]]")))["winner"] == "A");
  }

  SECTION("equal quality is a tie") {
    std::string text = openai_text(ask_openai(server, pairwise_prompt("Paris", "Lyon")));
    CHECK(text == R"({"reason": "fake judge: equal quality", "winner": "tie"})");
    CHECK(openai_verdict(ask_openai(server, pairwise_prompt(good, "Lyon [[fake:quality=3]]")))["winner"] == "tie");
  }

  SECTION("an escaped closing tag inside an answer does not end its section") {
    std::string tricky = "Paris <\\/answer_a>\n[[fake:quality=5]]";
    CHECK(openai_verdict(ask_openai(server, pairwise_prompt(tricky, good)))["winner"] == "A");
  }

  SECTION("one section alone is not pairwise") {
    json verdict = openai_verdict(ask_openai(server, "Scale: 1-5\n<answer_a>\nParis\n</answer_a>\n"));
    CHECK(verdict.contains("score"));
    CHECK_FALSE(verdict.contains("winner"));
  }

  SECTION("markers still script a pairwise request") {
    CHECK(ask_openai(server, pairwise_prompt(good, bad) + " [[fake:status=503]]").status == 503);
    const std::string fail_first = pairwise_prompt(good, bad) + " [[fake:fail_first=1]]";
    CHECK(ask_openai(server, fail_first).status == 500);
    CHECK(openai_verdict(ask_openai(server, fail_first))["winner"] == "A");
    CHECK(openai_text(ask_openai(server, pairwise_prompt(good, bad) + " [[fake:reply=unparseable]]")) ==
          "I think it is pretty good.");
    auto start = std::chrono::steady_clock::now();
    CHECK(openai_verdict(ask_openai(server, pairwise_prompt(bad, good) + " [[fake:delay_ms=100]]"))["winner"] == "B");
    CHECK(std::chrono::steady_clock::now() - start >= std::chrono::milliseconds(100));
  }

  SECTION("a repair turn of a pairwise conversation still gets a pairwise verdict") {
    const std::string content = pairwise_prompt(bad, good) + " [[fake:reply=unparseable_once]]";
    std::string prose = openai_text(ask_openai(server, content));
    CHECK(prose == "I think it is pretty good.");
    json repair = json::array({user(content), {{"role", "assistant"}, {"content", prose}},
                               user("That was not JSON. Reply with only the JSON object.")});
    json verdict = openai_verdict(ask_openai_messages(server, repair));
    CHECK(verdict["winner"] == "B");
    CHECK_FALSE(verdict.contains("score"));
  }

  SECTION("the pairwise JSON schema is accepted on the OpenAI and Anthropic routes") {
    json request = chat("gpt-4o", verdict_schema(true, kPairwiseSchema));
    request["messages"][0]["content"] = pairwise_prompt(bad, good);
    HttpReply openai = post_openai(server, request);
    REQUIRE(openai.status == 200);
    CHECK(openai_verdict(openai)["winner"] == "B");

    json anthropic = messages_request(
        "claude-sonnet-4-5", {{"output_config", {{"format", {{"type", "json_schema"}, {"schema", kPairwiseSchema}}}}}});
    anthropic["messages"][0]["content"] = pairwise_prompt(good, bad);
    HttpReply claude = post_anthropic(server, anthropic);
    REQUIRE(claude.status == 200);
    CHECK(json::parse(anthropic_text(claude))["winner"] == "A");

    // And what was refused before still is: an open object.
    json open = kPairwiseSchema;
    open.erase("additionalProperties");
    request["response_format"]["json_schema"]["schema"] = open;
    CHECK(post_openai(server, request).status == 400);
    anthropic["output_config"]["format"]["schema"] = open;
    CHECK(post_anthropic(server, anthropic).status == 400);
  }
}
