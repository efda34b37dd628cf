// RedisRateLimiter and RedisProbeLease against a real redis-server (started per test on a free
// loopback port), on a real libevent loop. Several limiters with their own connections stand in
// for several processes.
#include "core/resilience/redis_rate_limiter.h"

#include <catch2/catch.hpp>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "core/common/clock.h"
#include "core/common/event_loop.h"
#include "core/redis/redis_client.h"
#include "core/resilience/redis_probe_lease.h"
#include "tests/support/redis_server.h"

namespace {

using llmeval::LibeventLoop;
using llmeval::Result;
using llmeval::SystemClock;
using llmeval::redis::parse_redis_url;
using llmeval::redis::RedisClient;
using llmeval::resilience::Admission;
using llmeval::resilience::Limits;
using llmeval::resilience::RedisLimiterOptions;
using llmeval::resilience::RedisProbeLease;
using llmeval::resilience::RedisRateLimiter;
using llmeval::testing::RedisServer;
using namespace std::chrono_literals;
using Ms = std::chrono::duration<double, std::milli>;

// A "process": its own connection and limiter on the shared loop.
struct Member {
  Member(LibeventLoop& loop, SystemClock& clock, const RedisServer& redis, const std::string& id,
         std::vector<bool>* degraded_log = nullptr)
      : client(loop, parse_redis_url(redis.url()).value()),
        limiter(loop, clock, client, options(id, degraded_log)) {}
  static RedisLimiterOptions options(const std::string& id, std::vector<bool>* degraded_log) {
    RedisLimiterOptions o;
    o.prefix = "test:";
    o.process_id = id;
    o.heartbeat_every = 200ms;
    if (degraded_log != nullptr) o.on_degraded = [degraded_log](bool d) { degraded_log->push_back(d); };
    return o;
  }
  RedisClient client;
  RedisRateLimiter limiter;
};

void run_for(LibeventLoop& loop, std::chrono::milliseconds how_long) {
  loop.add_timer(how_long, [&loop] { loop.stop(); });
  loop.run();
}

// Asks for `count` grants one after another; returns when each came, in ms from the start.
std::shared_ptr<std::vector<double>> take_in_turn(LibeventLoop& loop, RedisRateLimiter& limiter, int count,
                                                  std::int64_t tokens = 1) {
  auto times = std::make_shared<std::vector<double>>();
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < count; ++i) {
    limiter.acquire("p", tokens, [times, start](Result<Admission> admission) {
      REQUIRE(admission.ok());
      REQUIRE(admission.value().granted);
      times->push_back(Ms(std::chrono::steady_clock::now() - start).count());
    });
  }
  (void)loop;
  return times;
}

}  // namespace

TEST_CASE("RedisRateLimiter: a new bucket starts empty and grants at the limit's rate", "[redis][limiter]") {
  RedisServer redis;
  LibeventLoop loop;
  SystemClock clock;
  Member a(loop, clock, redis, "a");
  a.limiter.set_limits("p", Limits{600, 0});  // 10 per second, bucket of 10
  auto times = take_in_turn(loop, a.limiter, 5);
  run_for(loop, 800ms);
  REQUIRE(times->size() == 5);
  CHECK(times->front() >= 90);  // empty at first: the first token takes 100 ms
  CHECK(times->back() >= 490);  // then one per 100 ms
  CHECK(times->back() < 700);
}

TEST_CASE("RedisRateLimiter: the burst setting bounds what a full shared bucket lets out at once",
          "[redis][limiter]") {
  RedisServer redis;
  LibeventLoop loop;
  SystemClock clock;
  Member a(loop, clock, redis, "a");
  a.limiter.set_limits("p", Limits{600, 0, 200ms});  // 10 per second, 200 ms of it at once: 2
  take_in_turn(loop, a.limiter, 1);  // makes the bucket (empty), then let it fill for a second
  run_for(loop, 1100ms);
  auto times = take_in_turn(loop, a.limiter, 4);
  run_for(loop, 600ms);
  REQUIRE(times->size() == 4);
  CHECK((*times)[1] < 60);   // the two a full bucket holds go at once
  CHECK((*times)[2] >= 90);  // then one per 100 ms, however long the bucket sat idle
  CHECK((*times)[3] >= 190);
}

TEST_CASE("RedisRateLimiter: two processes share one limit", "[redis][limiter]") {
  RedisServer redis;
  LibeventLoop loop;
  SystemClock clock;
  Member a(loop, clock, redis, "a");
  Member b(loop, clock, redis, "b");
  a.limiter.set_limits("p", Limits{1200, 0});  // 20 per second between them
  b.limiter.set_limits("p", Limits{1200, 0});
  auto from_a = take_in_turn(loop, a.limiter, 100);
  auto from_b = take_in_turn(loop, b.limiter, 100);
  run_for(loop, 1000ms);
  std::size_t granted = from_a->size() + from_b->size();
  INFO("a " << from_a->size() << ", b " << from_b->size());
  CHECK(granted >= 17);  // 20 in a second, less scheduling slack
  CHECK(granted <= 21);
  CHECK(from_a->size() >= 5);  // both get served
  CHECK(from_b->size() >= 5);
  CHECK(a.limiter.live_processes("p") == 2);
}

TEST_CASE("RedisRateLimiter: a hold_off in one process holds every process", "[redis][limiter]") {
  RedisServer redis;
  LibeventLoop loop;
  SystemClock clock;
  Member a(loop, clock, redis, "a");
  Member b(loop, clock, redis, "b");
  run_for(loop, 50ms);  // connected
  a.limiter.hold_off("p", 500ms);
  run_for(loop, 20ms);  // the hold reaches Redis
  auto times = take_in_turn(loop, b.limiter, 1);
  run_for(loop, 800ms);
  REQUIRE(times->size() == 1);
  CHECK(times->front() >= 450);
}

TEST_CASE("RedisRateLimiter: tokens are reserved, then reconciled with real usage", "[redis][limiter]") {
  RedisServer redis;
  LibeventLoop loop;
  SystemClock clock;
  Member a(loop, clock, redis, "a");
  a.limiter.set_limits("p", Limits{0, 60000});  // 1000 tokens per second, bucket of 1000
  take_in_turn(loop, a.limiter, 1, 1);          // creates the bucket (empty)...
  run_for(loop, 1100ms);                        // ...which fills
  auto first = take_in_turn(loop, a.limiter, 1, 1000);
  run_for(loop, 30ms);
  REQUIRE(first->size() == 1);
  a.limiter.reconcile("p", 1000, 200);  // 800 come back
  auto second = take_in_turn(loop, a.limiter, 1, 800);
  run_for(loop, 30ms);
  CHECK(second->size() == 1);  // without the reconcile it would wait 800 ms
}

TEST_CASE("RedisRateLimiter: Redis stalled or gone degrades to a local share and comes back by itself",
          "[redis][limiter]") {
  RedisServer redis;
  LibeventLoop loop;
  SystemClock clock;
  std::vector<bool> changes;
  Member a(loop, clock, redis, "a", &changes);
  Member b(loop, clock, redis, "b");
  a.limiter.set_limits("p", Limits{1200, 0});
  b.limiter.set_limits("p", Limits{1200, 0});
  run_for(loop, 500ms);
  REQUIRE(a.limiter.live_processes("p") == 2);

  redis.pause();
  auto start = std::chrono::steady_clock::now();
  auto times = take_in_turn(loop, a.limiter, 3);
  run_for(loop, 600ms);
  CHECK(a.limiter.degraded());
  REQUIRE(changes == std::vector<bool>{true});
  // A local share of 1200/2 per minute (10/s), starting empty: 3 grants in about 300 ms.
  REQUIRE(times->size() == 3);
  CHECK(times->back() >= 250);
  CHECK(Ms(std::chrono::steady_clock::now() - start).count() < 1000);

  redis.resume();
  run_for(loop, 6000ms);  // reconnect backoff, then a heartbeat gets through
  CHECK_FALSE(a.limiter.degraded());
  CHECK(changes == std::vector<bool>{true, false});
}

TEST_CASE("RedisRateLimiter: a bucket lost with a Redis restart starts empty again", "[redis][limiter]") {
  RedisServer redis;
  LibeventLoop loop;
  SystemClock clock;
  Member a(loop, clock, redis, "a");
  a.limiter.set_limits("p", Limits{600, 0});
  take_in_turn(loop, a.limiter, 1);
  run_for(loop, 1200ms);  // the bucket exists in Redis and is full (10)
  REQUIRE(redis.command({"EXISTS", "test:{p}:bucket"}) == "1");
  redis.kill();
  redis.restart();
  Member b(loop, clock, redis, "b");  // a fresh connection to the new server
  b.limiter.set_limits("p", Limits{600, 0});
  auto times = take_in_turn(loop, b.limiter, 1);
  run_for(loop, 400ms);
  REQUIRE(times->size() == 1);
  CHECK(times->front() >= 90);
}

TEST_CASE("RedisProbeLease grants a bounded number of probes across processes", "[redis][breaker]") {
  RedisServer redis;
  LibeventLoop loop;
  RedisClient first(loop, parse_redis_url(redis.url()).value());
  RedisClient second(loop, parse_redis_url(redis.url()).value());
  RedisProbeLease a(first, "test:", "a", 1);
  RedisProbeLease b(second, "test:", "b", 1);
  std::string lease_a, lease_b = "unset";
  a.acquire("p", 5000ms, [&](std::string lease) { lease_a = std::move(lease); });
  run_for(loop, 50ms);
  b.acquire("p", 5000ms, [&](std::string lease) { lease_b = std::move(lease); });
  run_for(loop, 50ms);
  CHECK_FALSE(lease_a.empty());
  CHECK(lease_b.empty());  // taken by a
  a.release("p", lease_a);
  b.acquire("p", 5000ms, [&](std::string lease) { lease_b = std::move(lease); });
  run_for(loop, 50ms);
  CHECK_FALSE(lease_b.empty());
  SECTION("a lease whose holder died expires") {
    std::string again = "unset";
    a.acquire("q", 200ms, [&](std::string lease) { again = std::move(lease); });
    run_for(loop, 300ms);
    b.acquire("q", 200ms, [&](std::string lease) { again = std::move(lease); });
    run_for(loop, 50ms);
    CHECK_FALSE(again.empty());
  }
}
