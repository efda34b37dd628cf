// The deterministic fakes other tests lean on: FakeClock, FakeEventLoop, FakeHttpClient.
#include "tests/fakes/fake_event_loop.h"

#include <catch2/catch.hpp>
#include <chrono>
#include <string>
#include <vector>

#include "tests/fakes/fake_clock.h"
#include "tests/fakes/fake_http_client.h"

using namespace std::chrono_literals;
using llmeval::testing::FakeClock;
using llmeval::testing::FakeEventLoop;
using llmeval::testing::FakeHttpClient;

TEST_CASE("FakeClock moves only when advanced", "[fakes]") {
  FakeClock clock;
  auto start = clock.now();
  auto wall = clock.wall_now();
  clock.advance(5s);
  CHECK(clock.now() - start == 5s);
  CHECK(clock.wall_now() - wall == 5s);
  clock.set_wall(FakeClock::kDefaultWall);
  CHECK(clock.wall_now() == FakeClock::kDefaultWall);
  CHECK(clock.now() - start == 5s);
}

TEST_CASE("FakeEventLoop fires timers in due order as the clock advances", "[fakes]") {
  FakeClock clock;
  FakeEventLoop loop(clock);
  auto start = clock.now();
  std::vector<std::string> fired;
  std::vector<std::chrono::steady_clock::duration> at;
  auto record = [&](std::string name) {
    return [&, name] {
      fired.push_back(name);
      at.push_back(clock.now() - start);
    };
  };
  loop.add_timer(300ms, record("c"));
  loop.add_timer(100ms, record("a"));
  auto cancelled = loop.add_timer(200ms, record("never"));
  loop.add_timer(100ms, record("b"));  // same due time: insertion order
  loop.cancel_timer(cancelled);
  loop.cancel_timer(cancelled);  // no-op

  SECTION("advance stops at each due time") {
    CHECK(loop.advance(150ms) == 2);
    CHECK(fired == std::vector<std::string>{"a", "b"});
    CHECK(at[0] == 100ms);
    CHECK(clock.now() - start == 150ms);
    CHECK(loop.advance(1s) == 1);
    CHECK(at[2] == 300ms);
    CHECK(clock.now() - start == 1150ms);
  }
  SECTION("run fires everything, advancing the clock") {
    loop.run();
    CHECK(fired == std::vector<std::string>{"a", "b", "c"});
    CHECK(clock.now() - start == 300ms);
    CHECK(loop.pending() == 0);
  }
  SECTION("stop ends run after the current callback") {
    loop.add_timer(150ms, [&] { loop.stop(); });
    loop.run();
    CHECK(fired == std::vector<std::string>{"a", "b"});
    CHECK(loop.pending() == 1);
  }
}

TEST_CASE("FakeEventLoop runs posted work later, never inline", "[fakes]") {
  FakeClock clock;
  FakeEventLoop loop(clock);
  std::vector<int> order;
  loop.post([&] {
    order.push_back(1);
    loop.post([&] { order.push_back(3); });
    order.push_back(2);
  });
  CHECK(order.empty());
  CHECK(loop.run_until_idle() == 2);
  CHECK(order == std::vector<int>{1, 2, 3});
}

TEST_CASE("FakeHttpClient records requests and plays its script", "[fakes]") {
  FakeClock clock;
  FakeEventLoop loop(clock);

  SECTION("synchronously") {
    FakeHttpClient client;
    client.push_response(200, "{}", {{"x-request-id", "1"}});
    client.push_error(llmeval::ErrorKind::kTimeout);
    std::vector<llmeval::Result<llmeval::provider::HttpResponse>> results;
    auto keep = [&](llmeval::Result<llmeval::provider::HttpResponse> r) { results.push_back(std::move(r)); };
    for (int i = 0; i < 3; ++i) {
      llmeval::provider::HttpRequest request;
      request.url = "http://127.0.0.1/" + std::to_string(i);
      client.send(request, keep);
    }
    REQUIRE(results.size() == 3);
    CHECK(results[0].value().status == 200);
    CHECK(results[0].value().header("x-request-id") == "1");
    CHECK(results[1].error().kind == llmeval::ErrorKind::kTimeout);
    CHECK(results[2].error().kind == llmeval::ErrorKind::kIo);  // script ran out
    CHECK(client.requests().size() == 3);
    CHECK(client.last_request().url == "http://127.0.0.1/2");
  }
  SECTION("through the loop") {
    FakeHttpClient client(&loop);
    client.push_response(503, "busy");
    long status = 0;
    client.send({}, [&](llmeval::Result<llmeval::provider::HttpResponse> r) { status = r.value().status; });
    CHECK(status == 0);
    loop.run_until_idle();
    CHECK(status == 503);
  }
}
