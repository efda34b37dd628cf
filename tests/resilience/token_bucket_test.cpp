#include "core/resilience/token_bucket.h"

#include <catch2/catch.hpp>

#include "tests/fakes/fake_clock.h"

using namespace std::chrono_literals;
using llmeval::resilience::shape_for;
using llmeval::resilience::TokenBucket;
using llmeval::testing::FakeClock;

TEST_CASE("TokenBucket starts full and takes until empty", "[limiter]") {
  FakeClock clock;
  TokenBucket bucket(shape_for(60, 60s), 60, clock.now());  // one token per second, full
  CHECK(bucket.capacity() == 60);
  CHECK(bucket.available(clock.now()) == Approx(60));
  CHECK(bucket.take(59, clock.now()) == 0ms);
  CHECK(bucket.take(1, clock.now()) == 0ms);
  CHECK(bucket.available(clock.now()) == Approx(0).margin(1e-9));
  SECTION("an empty bucket says how long until n are back") {
    CHECK(bucket.take(1, clock.now()) == 1000ms);
    CHECK(bucket.take(3, clock.now()) == 3000ms);
  }
  SECTION("a refusal takes nothing") {
    clock.advance(500ms);
    CHECK(bucket.take(1, clock.now()) == 500ms);
    CHECK(bucket.available(clock.now()) == Approx(0.5));
  }
}

TEST_CASE("TokenBucket refills continuously and never above capacity", "[limiter]") {
  FakeClock clock;
  TokenBucket bucket(shape_for(600, 60s), 600, clock.now());  // 10 per second
  REQUIRE(bucket.take(600, clock.now()) == 0ms);
  clock.advance(250ms);
  CHECK(bucket.available(clock.now()) == Approx(2.5));
  clock.advance(1s);
  CHECK(bucket.available(clock.now()) == Approx(12.5));
  clock.advance(1h);
  CHECK(bucket.available(clock.now()) == Approx(600));
}

TEST_CASE("TokenBucket wait times are enough, rounded up to whole milliseconds", "[limiter]") {
  FakeClock clock;
  TokenBucket bucket(shape_for(420, 1s), 7, clock.now());  // 7 per second: 1 token every 142.857 ms
  REQUIRE(bucket.take(7, clock.now()) == 0ms);
  auto wait = bucket.take(1, clock.now());
  CHECK(wait == 143ms);
  clock.advance(wait);
  CHECK(bucket.take(1, clock.now()) == 0ms);
  SECTION("waiting exactly the answer always succeeds") {
    for (int i = 0; i < 100; ++i) {
      auto w = bucket.take(3, clock.now());
      clock.advance(w);
      REQUIRE(bucket.take(3, clock.now()) == 0ms);
    }
  }
}

TEST_CASE("TokenBucket lets a take larger than capacity pass when full, leaving debt", "[limiter]") {
  FakeClock clock;
  TokenBucket bucket(shape_for(100, 60s), 100, clock.now());
  CHECK(bucket.take(1000, clock.now()) == 0ms);
  CHECK(bucket.available(clock.now()) == Approx(-900));
  CHECK(bucket.take(1000, clock.now()) == 600000ms);  // pay the debt, then wait until full again
  TokenBucket empty(shape_for(100, 60s), 0, clock.now());
  CHECK(empty.take(-5, clock.now()) == 0ms);  // negative counts as zero
  CHECK(empty.available(clock.now()) == Approx(0));
}

TEST_CASE("shape_for: refill at the per-minute rate, one burst's worth of capacity, at least one", "[limiter]") {
  auto shape = shape_for(600);  // default burst: one second
  CHECK(shape.capacity == Approx(10));
  CHECK(shape.rate_per_ms == Approx(0.01));
  CHECK(shape_for(30).capacity == Approx(1));  // half a request per second still admits one
  CHECK(shape_for(6000, 3s).capacity == Approx(300));
}

TEST_CASE("TokenBucket started empty admits nothing until it refills", "[limiter]") {
  FakeClock clock;
  TokenBucket bucket(shape_for(600), 0, clock.now());
  CHECK(bucket.take(1, clock.now()) == 100ms);
  clock.advance(100ms);
  CHECK(bucket.take(1, clock.now()) == 0ms);
  clock.advance(1h);
  CHECK(bucket.available(clock.now()) == Approx(10));
}

TEST_CASE("TokenBucket give_back caps at capacity; a negative give_back goes into debt", "[limiter]") {
  FakeClock clock;
  TokenBucket bucket(shape_for(60, 60s), 60, clock.now());
  REQUIRE(bucket.take(10, clock.now()) == 0ms);
  bucket.give_back(4, clock.now());
  CHECK(bucket.available(clock.now()) == Approx(54));
  bucket.give_back(100, clock.now());
  CHECK(bucket.available(clock.now()) == Approx(60));
  bucket.give_back(-80, clock.now());
  CHECK(bucket.available(clock.now()) == Approx(-20));
  CHECK(bucket.take(1, clock.now()) == 21000ms);  // pay the debt, then one more
}
