// Integration tests for how `llmeval serve` protects itself and its callers (docs/formats.md §6): body size
// limits, slow (slowloris) and idle connections, load shedding beyond --max-queue, draining on
// SIGTERM, judging concurrent requests concurrently, the request timeout, clients that hang up
// early and garbage on the wire. The real binary on 127.0.0.1 with the real fake provider; raw
// sockets (RawConnection) where a client must misbehave. Timing bounds are generous for a loaded
// 2-core machine but still fail when the server waits for the wrong thing (a whole body, a
// request's end, a queue it should have shed).
#include <catch2/catch.hpp>

#include <chrono>
#include <csignal>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/support/fake_provider.h"
#include "tests/support/http.h"
#include "tests/support/raw_connection.h"
#include "tests/support/serve_process.h"

namespace {

using llmeval::testing::error_kind;
using llmeval::testing::FakeProviderServer;
using llmeval::testing::HttpReply;
using llmeval::testing::json_body;
using llmeval::testing::metric_sample;
using llmeval::testing::RawConnection;
using llmeval::testing::ServeProcess;
using nlohmann::json;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

std::string provider(const FakeProviderServer& fake) { return "openai:judge-model@" + fake.base_url_openai(); }

std::string row(int id, const std::string& output = "Paris.") {
  return json{{"id", id},
              {"prompt", "What is the capital of France?"},
              {"output", output},
              {"criteria", "The answer is correct."}}
      .dump();
}

std::string describe(const HttpReply& reply) {
  return "status " + std::to_string(reply.status) + " body " + reply.body +
         (reply.error.empty() ? "" : " error " + reply.error);
}

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

// A row whose JSON text is exactly `size` bytes: deterministic criteria (no provider call) and
// metadata padding.
std::string row_of_size(std::size_t size) {
  json value = {{"id", "big"},
                {"output", "Paris."},
                {"criteria", json::array({{{"name", "p"}, {"type", "contains"}, {"value", "Paris"}}})},
                {"metadata", {{"pad", ""}}}};
  std::size_t base = value.dump().size();
  REQUIRE(size >= base);
  value["metadata"]["pad"] = std::string(size - base, 'x');
  return value.dump();
}

// Sends `count` single-row POSTs at once, one thread each; returns the replies in row order.
std::vector<HttpReply> post_concurrently(const ServeProcess& serve, int count, std::chrono::milliseconds timeout,
                                         std::vector<double>* seconds = nullptr) {
  std::vector<HttpReply> replies(static_cast<std::size_t>(count));
  std::vector<double> took(static_cast<std::size_t>(count));
  std::vector<std::thread> threads;
  for (int i = 0; i < count; ++i) {
    threads.emplace_back([&, i] {
      auto start = Clock::now();
      replies[static_cast<std::size_t>(i)] = serve.post("/v1/evaluate", row(i), {}, timeout);
      took[static_cast<std::size_t>(i)] = seconds_since(start);
    });
  }
  for (auto& thread : threads) thread.join();
  if (seconds != nullptr) *seconds = took;
  return replies;
}

}  // namespace

TEST_CASE("serve answers 413 to a body over --max-body and judges one just under it", "[serve]") {
  FakeProviderServer fake;
  ServeProcess serve({"-p", provider(fake), "--max-body", "64KiB"});
  const std::size_t limit = 64 * 1024;

  HttpReply under = serve.post("/v1/evaluate", row_of_size(limit - 512));
  INFO(describe(under).substr(0, 400));
  CHECK(under.status == 200);
  CHECK(json_body(under)["status"] == "ok");

  // The answer is the JSON error every other refusal of serve is, not libevent's HTML page.
  auto check_json_413 = [&](const HttpReply& over) {
    INFO(describe(over).substr(0, 400));
    CHECK(over.status == 413);
    CHECK(error_kind(over) == "body_too_large");
    CHECK_THAT(json_body(over)["error"].value("message", ""),
               Catch::Contains("over the limit of 65536 bytes (--max-body)"));
    CHECK(over.body.find("<HTML>") == std::string::npos);
    bool json_type = false, request_id = false;
    for (const auto& [name, value] : over.headers) {
      json_type = json_type || (name == "content-type" && value == "application/json");
      request_id = request_id || (name == "x-request-id" && value.size() == 16);
    }
    CHECK(json_type);
    CHECK(request_id);
  };
  SECTION("with a Content-Length") {
    check_json_413(serve.post("/v1/evaluate", row_of_size(limit + 1024)));
  }
  SECTION("chunked, with no length up front") {
    HttpReply chunked_under = serve.post("/v1/evaluate", row_of_size(limit - 512), {"Transfer-Encoding: chunked"});
    INFO(describe(chunked_under).substr(0, 400));
    CHECK(chunked_under.status == 200);
    check_json_413(serve.post("/v1/evaluate", row_of_size(limit + 1024), {"Transfer-Encoding: chunked"}));
  }
  SECTION("a batch, by its bytes") {
    std::string batch = R"({"rows": [)" + row_of_size(40 * 1024) + "," + row_of_size(40 * 1024) + "]}";
    check_json_413(serve.post("/v1/evaluate", batch));
  }
  // Still serving afterwards.
  CHECK(serve.get("/healthz").status == 200);
}

TEST_CASE("serve answers 413 to a huge Content-Length without waiting for the body", "[serve]") {
  FakeProviderServer fake;
  ServeProcess serve({"-p", provider(fake), "--max-body", "64KiB", "--read-timeout", "10s"});

  RawConnection connection(serve.port());
  auto start = Clock::now();
  REQUIRE(
      connection.send("POST /v1/evaluate HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                      "Content-Length: 100000000\r\n\r\n" +
                      std::string(4096, ' ')));
  auto reply = connection.read_response(5s);
  double took = seconds_since(start);
  INFO("got after " << took << " s: " << reply.data.substr(0, 300));
  CHECK(reply.data.rfind("HTTP/1.1 413", 0) == 0);
  CHECK(took < 3.0);  // far below the 10 s read timeout: it did not wait for 100 MB
  CHECK(fake.stats().value("requests", -1) == 0);
  // Headers, then exactly the JSON error its Content-Length announces.
  const auto head_end = reply.data.find("\r\n\r\n");
  REQUIRE(head_end != std::string::npos);
  const std::string head = reply.data.substr(0, head_end);
  CHECK(head.find("\r\nContent-Type: application/json") != std::string::npos);
  CHECK(head.find("\r\nConnection: close") != std::string::npos);
  const json body = json::parse(reply.data.substr(head_end + 4), nullptr, false);
  REQUIRE(body.is_object());
  CHECK(body["error"]["kind"] == "body_too_large");
  CHECK(head.find("\r\nContent-Length: " + std::to_string(reply.data.size() - head_end - 4)) != std::string::npos);
}

TEST_CASE("serve closes a connection whose request drips in slower than --read-timeout (slowloris)", "[serve]") {
  FakeProviderServer fake;
  // One loop thread: a slow client must not hold it up for anyone else.
  ServeProcess serve({"-p", provider(fake), "--read-timeout", "2s", "--idle-timeout", "30s", "--threads", "1"});
  REQUIRE(serve.get("/healthz").status == 200);
  const std::string head =
      "POST /v1/evaluate HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 120\r\n\r\n";

  struct Drip {
    RawConnection::SlowSend sent;
    double closed_after = -1;  // seconds from the first byte to the close; -1: never closed
    std::size_t total = 0;
  };
  // Each byte comes well within any per-read inactivity timeout: only a deadline on the whole
  // request catches this.
  auto drip = [&](const std::string& upfront, const std::string& slowly) {
    Drip d;
    d.total = slowly.size();
    RawConnection connection(serve.port());
    auto start = Clock::now();
    if (!upfront.empty()) connection.send(upfront);
    d.sent = connection.send_slowly(slowly, 400ms);
    if (d.sent.peer_closed) d.closed_after = seconds_since(start);
    return d;
  };
  Drip headers, body;
  std::thread header_drip([&] { headers = drip("", head + std::string(120, ' ')); });
  std::thread body_drip([&] { body = drip(head, "{" + std::string(119, ' ')); });

  // Meanwhile, an ordinary request on another connection is answered at once.
  std::this_thread::sleep_for(500ms);
  auto start = Clock::now();
  HttpReply normal = serve.post("/v1/evaluate", row(1));
  double normal_took = seconds_since(start);
  header_drip.join();
  body_drip.join();

  INFO("normal request: " << describe(normal) << " after " << normal_took << " s");
  CHECK(normal.status == 200);
  CHECK(normal_took < 1.5);
  for (const auto& [name, d] : {std::pair{"headers", headers}, std::pair{"body", body}}) {
    INFO(name << " drip: closed after " << d.closed_after << " s, " << d.sent.sent << " of " << d.total
              << " bytes sent");
    CHECK(d.sent.peer_closed);
    CHECK(d.closed_after >= 1.5);
    CHECK(d.closed_after <= 4.5);
    CHECK(d.sent.sent < d.total);
  }
}

TEST_CASE("serve closes a keep-alive connection idle for --idle-timeout", "[serve]") {
  FakeProviderServer fake;
  ServeProcess serve({"-p", provider(fake), "--idle-timeout", "1s", "--read-timeout", "5s"});
  const std::string healthz = "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";

  // A connection that never sends a byte is not kept forever either.
  double silent_closed_after = -1;
  std::thread silent([&] {
    RawConnection connection(serve.port());
    auto start = Clock::now();
    if (connection.read_until_closed(10s).peer_closed) silent_closed_after = seconds_since(start);
  });

  RawConnection connection(serve.port());
  REQUIRE(connection.send(healthz));
  auto first = connection.read_response(3s);
  INFO(first.data);
  REQUIRE(first.data.rfind("HTTP/1.1 200", 0) == 0);
  // Activity within the idle timeout keeps the connection.
  std::this_thread::sleep_for(400ms);
  REQUIRE(connection.send(healthz));
  auto second = connection.read_response(3s);
  INFO(second.data);
  REQUIRE(second.data.rfind("HTTP/1.1 200", 0) == 0);
  auto idle_from = Clock::now();
  auto rest = connection.read_until_closed(6s);
  double idle_closed_after = seconds_since(idle_from);
  silent.join();

  INFO("idle keep-alive closed after " << idle_closed_after << " s; silent connection after " << silent_closed_after
                                       << " s");
  CHECK(rest.peer_closed);
  CHECK(idle_closed_after >= 0.5);
  CHECK(idle_closed_after <= 3.0);
  CHECK(silent_closed_after >= 0.5);
  CHECK(silent_closed_after <= 7.0);
}

TEST_CASE("serve sheds requests beyond --max-queue with 503 overloaded and Retry-After", "[serve]") {
  FakeProviderServer fake({"--latency-ms", "1000"});
  ServeProcess serve({"-p", provider(fake), "-j", "2", "--max-queue", "4", "--threads", "1"});
  REQUIRE(serve.get("/healthz").status == 200);

  std::vector<HttpReply> replies;
  std::vector<double> took;
  std::thread load([&] { replies = post_concurrently(serve, 16, 20s, &took); });
  // The server answers its health check while the judge queue is full.
  std::this_thread::sleep_for(300ms);
  auto start = Clock::now();
  HttpReply health = serve.get("/healthz", {}, 5s);
  double health_took = seconds_since(start);
  load.join();

  INFO("/healthz under load: " << describe(health) << " after " << health_took << " s");
  CHECK(health.status == 200);
  CHECK(health_took < 0.8);
  int ok = 0;
  int overloaded = 0;
  for (std::size_t i = 0; i < replies.size(); ++i) {
    const HttpReply& reply = replies[i];
    INFO("request " << i << " after " << took[i] << " s: " << describe(reply) << " retry-after '"
                    << reply.header("retry-after") << "'");
    if (reply.status == 200) {
      ++ok;
      CHECK(json_body(reply)["status"] == "ok");
    } else {
      CHECK(reply.status == 503);
      CHECK(error_kind(reply) == "overloaded");
      CHECK_FALSE(reply.header("retry-after").empty());
      CHECK(reply.header("retry-after").find_first_not_of("0123456789") == std::string::npos);
      CHECK(took[i] < 0.9);  // shed at once, not after waiting for the judge
      ++overloaded;
    }
  }
  INFO(ok << " answered 200, " << overloaded << " answered 503");
  CHECK(ok + overloaded == 16);
  CHECK(ok >= 4);  // the queue holds 4 rows
  CHECK(ok <= 12);
  CHECK(overloaded >= 4);
  CHECK(fake.stats().value("max_in_flight", 0) <= 2);  // -j 2
  // Shed and finished requests both leave the gauges: nothing is in flight or queued now.
  HttpReply metrics = serve.get("/metrics");
  INFO(metrics.body);
  CHECK(metric_sample(metrics.body, "llmeval_inflight_requests") == 0.0);
  CHECK(metric_sample(metrics.body, "llmeval_queue_depth") == 0.0);
  CHECK(metric_sample(metrics.body, "llmeval_http_requests_total", {R"(code="503")"}).value_or(0) == overloaded);
}

TEST_CASE("serve drains on SIGTERM: readyz 503, new requests 503 draining, in-flight ones finish, exit 0", "[serve]") {
  FakeProviderServer fake({"--latency-ms", "1500"});
  ServeProcess serve({"-p", provider(fake), "-j", "8", "--grace", "10s", "--threads", "1"});
  REQUIRE(serve.get("/readyz").status == 200);
  // A provider's first call goes out alone (core/provider/json_api_provider.h): one request
  // first, so that the three below are in flight together.
  REQUIRE(serve.post("/v1/evaluate", row(98), {}, 5s).status == 200);
  fake.reset_stats();
  // A kept-alive connection with no request in progress must not hold the exit up.
  RawConnection idle(serve.port());
  REQUIRE(idle.send("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"));
  REQUIRE(idle.read_response(3s).data.rfind("HTTP/1.1 200", 0) == 0);

  std::vector<HttpReply> in_flight;
  std::thread load([&] { in_flight = post_concurrently(serve, 3, 15s); });
  REQUIRE(fake.wait_for_in_flight(3, 3s));
  HttpReply metrics = serve.get("/metrics", {}, 2s);
  auto signalled = Clock::now();
  serve.signal(SIGTERM);

  // /readyz turns 503 at once (give the signal a moment to land).
  HttpReply ready;
  for (auto until = Clock::now() + 500ms; Clock::now() < until; std::this_thread::sleep_for(20ms)) {
    ready = serve.get("/readyz", {}, 2s);
    if (ready.status == 503) break;
  }
  double ready_after = seconds_since(signalled);
  HttpReply fresh = serve.post("/v1/evaluate", row(99), {}, 5s);
  HttpReply fresh_batch = serve.post("/v1/evaluate", R"({"rows": [)" + row(100) + "]}", {}, 5s);
  HttpReply health = serve.get("/healthz", {}, 2s);
  double checked_after = seconds_since(signalled);
  load.join();
  int exit_code = serve.wait(10s);
  double exited_after = seconds_since(signalled);

  // The HPA's metric counts the three requests being evaluated.
  CHECK(metric_sample(metrics.body, "llmeval_inflight_requests") == 3.0);
  INFO("readyz: " << describe(ready) << " after " << ready_after << " s");
  CHECK(ready.status == 503);
  INFO("new POST: " << describe(fresh) << " retry-after '" << fresh.header("retry-after") << "'");
  CHECK(checked_after < 1.4);  // these ran while the three were still in flight
  CHECK(fresh.status == 503);
  CHECK(error_kind(fresh) == "draining");
  CHECK_FALSE(fresh.header("retry-after").empty());
  INFO("new batch: " << describe(fresh_batch));
  CHECK(fresh_batch.status == 503);
  CHECK(error_kind(fresh_batch) == "draining");
  CHECK(health.status == 200);
  for (const auto& reply : in_flight) {
    INFO("in flight: " << describe(reply));
    CHECK(reply.status == 200);
    CHECK(json_body(reply)["status"] == "ok");
  }
  INFO("exited " << exited_after << " s after SIGTERM");
  CHECK(exit_code == 0);
  CHECK(exited_after < 3.5);  // when the last request finished, not at the 10 s grace
  CHECK(fake.stats().at("by_path").value("/v1/chat/completions", 0) == 3);
}

TEST_CASE("serve judges concurrent requests and the rows of a batch concurrently", "[serve]") {
  FakeProviderServer fake({"--latency-ms", "1000"});
  ServeProcess serve({"-p", provider(fake), "-j", "64", "--max-queue", "100"});
  REQUIRE(serve.get("/healthz").status == 200);

  auto start = Clock::now();
  std::vector<HttpReply> replies = post_concurrently(serve, 20, 15s);
  double took = seconds_since(start);
  INFO("20 concurrent requests took " << took << " s");
  for (const auto& reply : replies) {
    INFO(describe(reply));
    CHECK(reply.status == 200);
  }
  CHECK(took < 2.5);
  CHECK(fake.stats().value("max_in_flight", 0) >= 10);

  json rows = json::array();
  for (int i = 0; i < 20; ++i) rows.push_back(json::parse(row(i)));
  start = Clock::now();
  HttpReply batch = serve.post("/v1/evaluate", json{{"rows", rows}}.dump(), {}, 15s);
  took = seconds_since(start);
  INFO("a batch of 20 rows took " << took << " s: " << describe(batch).substr(0, 400));
  REQUIRE(batch.status == 200);
  CHECK(json_body(batch)["summary"]["ok"] == 20);
  CHECK(took < 2.5);
}

TEST_CASE("serve answers 504 timeout when a request outlives --request-timeout", "[serve]") {
  FakeProviderServer fake;
  ServeProcess serve(
      {"-p", provider(fake), "--request-timeout", "1s", "--timeout", "10s", "--retries", "0", "--grace", "1s"});

  auto start = Clock::now();
  HttpReply reply = serve.post("/v1/evaluate", row(1, "Paris. [[fake:delay_ms=2500]]"), {"X-Request-Id: slow-1"}, 10s);
  double took = seconds_since(start);
  INFO(describe(reply) << " after " << took << " s");
  CHECK(reply.status == 504);
  CHECK(error_kind(reply) == "timeout");
  CHECK(reply.header("x-request-id") == "slow-1");
  CHECK(took >= 0.8);
  CHECK(took < 2.5);
  CHECK(serve.get("/healthz").status == 200);

  // The judge's late reply, for a request already answered, changes nothing.
  CHECK(fake.wait_for_in_flight_below(1, 5s));
  CHECK(serve.running());
  HttpReply after = serve.post("/v1/evaluate", row(2));
  INFO("after the late reply: " << describe(after));
  CHECK(after.status == 200);
  CHECK(metric_sample(serve.get("/metrics").body, "llmeval_inflight_requests") == 0.0);
}

TEST_CASE("serve copes with clients that hang up before their answer", "[serve]") {
  FakeProviderServer fake;
  ServeProcess serve({"-p", provider(fake), "--retries", "0"});
  const std::string slow = "Paris. [[fake:delay_ms=800]]";

  // curl gives up after 200 ms; the judge answers at 800 ms, to a connection that is gone.
  HttpReply single = serve.post("/v1/evaluate", row(1, slow), {}, 200ms);
  HttpReply batch = serve.post("/v1/evaluate", R"({"rows": [)" + row(2, slow) + "," + row(3, slow) + "]}", {}, 200ms);
  CHECK(single.status == 0);
  CHECK(batch.status == 0);
  // A raw client that sends a whole request and hangs up at once.
  {
    RawConnection connection(serve.port());
    std::string body = row(4, slow);
    REQUIRE(
        connection.send("POST /v1/evaluate HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                        "Content-Length: " +
                        std::to_string(body.size()) + "\r\n\r\n" + body));
  }
  CHECK(fake.wait_for_in_flight_below(1, 5s));
  std::this_thread::sleep_for(100ms);

  CHECK(serve.running());
  HttpReply after = serve.post("/v1/evaluate", row(5));
  INFO(describe(after));
  CHECK(after.status == 200);
  // Every abandoned request leaves the gauges, soon: the last answers (to nobody) are written
  // after the fake's replies, which a loaded machine may take a moment over.
  std::optional<double> inflight;
  std::optional<double> queued;
  for (auto until = Clock::now() + 3s; Clock::now() < until; std::this_thread::sleep_for(50ms)) {
    HttpReply metrics = serve.get("/metrics");
    inflight = metric_sample(metrics.body, "llmeval_inflight_requests");
    queued = metric_sample(metrics.body, "llmeval_queue_depth");
    if (inflight == 0.0 && queued == 0.0) break;
  }
  CHECK(inflight == 0.0);
  CHECK(queued == 0.0);
}

TEST_CASE("serve answers garbage on the wire without falling over", "[serve]") {
  FakeProviderServer fake;
  ServeProcess serve({"-p", provider(fake)});
  for (const std::string& garbage :
       {std::string("HELLO\r\n\r\n"), std::string("GET / HTTP/9.9\r\n\r\n"),
        std::string("POST /v1/evaluate HTTP/1.1\r\nHost: x\r\nno colon here\r\n\r\n"),
        std::string("POST /v1/evaluate HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n"),
        std::string("POST /v1/evaluate HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"),
        std::string("\0\1\2\3\r\n\r\n", 8)}) {
    RawConnection connection(serve.port());
    connection.send(garbage);
    auto reply = connection.read_response(3s);
    INFO("sent " << json(garbage).dump() << ", got " << json(reply.data.substr(0, 200)).dump());
    // An error status or a closed connection; never a 200, never a hang. An error status
    // comes with the JSON error body of every serve error.
    CHECK((reply.peer_closed || reply.data.rfind("HTTP/1.1 4", 0) == 0));
    CHECK(reply.data.find(" 200 ") == std::string::npos);
    if (reply.data.rfind("HTTP/1.1 4", 0) == 0) {
      const auto head_end = reply.data.find("\r\n\r\n");
      REQUIRE(head_end != std::string::npos);
      const json body = json::parse(reply.data.substr(head_end + 4), nullptr, false);
      CHECK((body.is_object() && body["error"]["kind"].is_string()));
    }
  }
  CHECK(serve.running());
  CHECK(serve.post("/v1/evaluate", row(1)).status == 200);
  CHECK(fake.stats().value("requests", -1) == 1);
}

TEST_CASE("a client that hangs up cancels its request's judge calls not yet sent", "[serve]") {
  FakeProviderServer fake({"--latency-ms", "300"});
  // One loop, one call at a time: the batch's ten rows would take ten calls, one after another.
  ServeProcess serve({"-p", provider(fake), "--threads", "1", "-j", "1", "--retries", "0"});
  std::string rows;
  for (int i = 1; i <= 10; ++i) rows += (i > 1 ? "," : "") + row(i);
  HttpReply gone = serve.post("/v1/evaluate", R"({"rows": [)" + rows + "]}", {}, 400ms);  // curl gives up
  CHECK(gone.status == 0);
  std::this_thread::sleep_for(3500ms);  // all ten would be done by now
  int requests = fake.stats().value("requests", -1);
  INFO(requests << " judge calls for a request whose client left after 400 ms");
  CHECK(requests >= 1);
  CHECK(requests <= 4);  // the ones out before the hang-up was seen; never the rest
  CHECK(serve.post("/v1/evaluate", row(11)).status == 200);  // and the instance carries on
  HttpReply metrics = serve.get("/metrics");
  CHECK(metric_sample(metrics.body, "llmeval_queue_depth") == 0.0);
}
