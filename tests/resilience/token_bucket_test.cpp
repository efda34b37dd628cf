#include "core/resilience/token_bucket.h"

#include <catch2/catch.hpp>

#include "tests/fakes/fake_clock.h"

using namespace std::chrono_literals;
using llmeval::resilience::TokenBucket;
using llmeval::testing::FakeClock;

TEST_CASE("TokenBucket starts full and takes until empty", "[limiter]") {
  FakeClock clock;
  TokenBucket bucket(60, 60s, clock.now());  // one token per second
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
  TokenBucket bucket(600, 60s, clock.now());  // 10 per second
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
  TokenBucket bucket(7, 1s, clock.now());  // 7 per second: 1 token every 142.857 ms
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

TEST_CASE("TokenBucket clamps requests larger than capacity", "[limiter]") {
  FakeClock clock;
  TokenBucket bucket(100, 60s, clock.now());
  CHECK(bucket.take(1000, clock.now()) == 0ms);  // taken as 100, so it can ever pass
  CHECK(bucket.available(clock.now()) == Approx(0).margin(1e-9));
  CHECK(bucket.take(1000, clock.now()) == 60000ms);  // a full refill, not ten
  CHECK(bucket.take(-5, clock.now()) == 0ms);        // negative counts as zero
}

TEST_CASE("TokenBucket give_back caps at capacity; a negative give_back goes into debt", "[limiter]") {
  FakeClock clock;
  TokenBucket bucket(60, 60s, clock.now());
  REQUIRE(bucket.take(10, clock.now()) == 0ms);
  bucket.give_back(4, clock.now());
  CHECK(bucket.available(clock.now()) == Approx(54));
  bucket.give_back(100, clock.now());
  CHECK(bucket.available(clock.now()) == Approx(60));
  bucket.give_back(-80, clock.now());
  CHECK(bucket.available(clock.now()) == Approx(-20));
  CHECK(bucket.take(1, clock.now()) == 21000ms);  // pay the debt, then one more
}
