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

std::string openai_body(const json& messages) {
  return json{{"model", "gpt-fake"}, {"temperature", 0}, {"max_tokens", 64}, {"messages", messages},
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
    json verdict = openai_verdict(reply);
    int score = verdict["score"].get<int>();
    CHECK(score >= 1);
    CHECK(score <= 10);
    CHECK(verdict["pass"].get<bool>() == (score >= 5.5));
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
    CHECK(fenced.find("```json\n{\"score\": 2") != std::string::npos);
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
    CHECK(verdict["pass"] == true);
  }
}
