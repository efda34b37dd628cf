#include <catch2/catch.hpp>

#include <cstdint>
#include <random>

#include "core/resilience/circuit_breaker.h"
#include "tests/fakes/fake_clock.h"

using llmeval::ErrorKind;
using llmeval::resilience::BreakerOptions;
using llmeval::resilience::BreakerState;
using llmeval::resilience::CircuitBreaker;
using llmeval::resilience::counts_against_provider;
using llmeval::testing::FakeClock;
using namespace std::chrono_literals;

namespace {

BreakerOptions options() {
  BreakerOptions o;
  o.failure_rate = 0.5;
  o.min_calls = 10;
  o.window = 30s;
  o.consecutive_failures = 5;
  o.open_for = 30s;
  o.half_open_probes = 1;
  return o;
}

}  // namespace

TEST_CASE("CircuitBreaker counts only failures that say the provider is unwell", "[breaker]") {
  CHECK(counts_against_provider(ErrorKind::kTimeout));
  CHECK(counts_against_provider(ErrorKind::kConnect));
  CHECK(counts_against_provider(ErrorKind::kServer));
  CHECK_FALSE(counts_against_provider(ErrorKind::kRateLimited));
  CHECK_FALSE(counts_against_provider(ErrorKind::kBadRequest));
  CHECK_FALSE(counts_against_provider(ErrorKind::kAuth));
  CHECK_FALSE(counts_against_provider(ErrorKind::kParse));
}

TEST_CASE("CircuitBreaker opens after N consecutive timeouts", "[breaker]") {
  FakeClock clock;
  CircuitBreaker breaker(clock, options());
  for (int i = 0; i < 4; ++i) {
    REQUIRE(breaker.allow());
    breaker.on_failure(ErrorKind::kTimeout);
  }
  CHECK(breaker.state() == BreakerState::kClosed);
  breaker.on_failure(ErrorKind::kTimeout);
  CHECK(breaker.state() == BreakerState::kOpen);
  CHECK_FALSE(breaker.allow());
  CHECK(breaker.openings() == 1);
  CHECK(breaker.retry_in() == 30000ms);
}

TEST_CASE("CircuitBreaker ignores 429s, 400s and auth failures", "[breaker]") {
  FakeClock clock;
  CircuitBreaker breaker(clock, options());
  for (int i = 0; i < 50; ++i) {
    breaker.on_failure(ErrorKind::kRateLimited);
    breaker.on_failure(ErrorKind::kBadRequest);
    breaker.on_failure(ErrorKind::kAuth);
  }
  CHECK(breaker.state() == BreakerState::kClosed);
}

TEST_CASE("CircuitBreaker opens on the failure rate over the sliding window", "[breaker]") {
  FakeClock clock;
  CircuitBreaker breaker(clock, options());
  SECTION("half the calls failing, never 5 in a row, opens once min_calls is reached") {
    for (int i = 0; i < 4; ++i) {
      breaker.on_success();
      breaker.on_failure(ErrorKind::kServer);
      clock.advance(1s);
    }
    CHECK(breaker.state() == BreakerState::kClosed);  // 8 calls < min_calls
    breaker.on_success();
    breaker.on_failure(ErrorKind::kServer);
    CHECK(breaker.state() == BreakerState::kOpen);
  }
  SECTION("failures older than the window are forgotten") {
    for (int i = 0; i < 4; ++i) breaker.on_failure(ErrorKind::kServer);
    breaker.on_success();  // breaks the run of consecutive failures
    clock.advance(31s);
    for (int i = 0; i < 6; ++i) breaker.on_success();
    for (int i = 0; i < 4; ++i) breaker.on_failure(ErrorKind::kServer);
    CHECK(breaker.state() == BreakerState::kClosed);  // 4 of 10 in the window
  }
  SECTION("a success rate above the threshold keeps it closed") {
    for (int i = 0; i < 100; ++i) {
      breaker.on_success();
      breaker.on_success();
      if (i % 2 == 0) breaker.on_failure(ErrorKind::kServer);
    }
    CHECK(breaker.state() == BreakerState::kClosed);
  }
}

TEST_CASE("CircuitBreaker half-opens after open_for and lets one probe through", "[breaker]") {
  FakeClock clock;
  CircuitBreaker breaker(clock, options());
  for (int i = 0; i < 5; ++i) breaker.on_failure(ErrorKind::kConnect);
  REQUIRE(breaker.state() == BreakerState::kOpen);
  clock.advance(29s);
  CHECK_FALSE(breaker.allow());
  clock.advance(1s);
  CHECK(breaker.state() == BreakerState::kHalfOpen);
  CHECK(breaker.allow());
  CHECK_FALSE(breaker.allow());  // one probe at a time

  SECTION("a successful probe closes it") {
    breaker.on_success();
    CHECK(breaker.state() == BreakerState::kClosed);
    CHECK(breaker.allow());
    for (int i = 0; i < 4; ++i) breaker.on_failure(ErrorKind::kTimeout);
    CHECK(breaker.state() == BreakerState::kClosed);  // a fresh start
  }
  SECTION("a failed probe opens it again for another open_for") {
    breaker.on_failure(ErrorKind::kTimeout);
    CHECK(breaker.state() == BreakerState::kOpen);
    CHECK(breaker.openings() == 2);
    clock.advance(30s);
    CHECK(breaker.state() == BreakerState::kHalfOpen);
  }
  SECTION("a probe that failed for our own reasons frees the slot") {
    breaker.on_failure(ErrorKind::kBadRequest);
    CHECK(breaker.state() == BreakerState::kHalfOpen);
    CHECK(breaker.allow());
  }
}

namespace {

// Calls at full speed (one a millisecond) that fail at random with probability `failure`, from a
// seeded source: how many calls until the breaker opened (0: it never did).
int calls_until_open(double failure, int calls, std::uint64_t seed, int healthy_first = 0) {
  FakeClock clock;
  CircuitBreaker breaker(clock, options());
  for (int i = 0; i < healthy_first; ++i) {
    breaker.on_success();
    clock.advance(1ms);
  }
  std::mt19937_64 random(seed);
  std::bernoulli_distribution fails(failure);
  for (int i = 1; i <= calls; ++i) {
    if (fails(random)) {
      breaker.on_failure(ErrorKind::kServer);
    } else {
      breaker.on_success();
    }
    if (breaker.state() == BreakerState::kOpen) return i;
    clock.advance(1ms);
  }
  return 0;
}

}  // namespace

TEST_CASE("CircuitBreaker does not trip on chance at high volume", "[breaker]") {
  // The run rule is about chance: five in a row after 3 of 16 calls failed is no surprise
  // (and 8 of 21 is under the rate rule's 50%).
  {
    FakeClock clock;
    CircuitBreaker breaker(clock, options());
    for (int i = 0; i < 12; ++i) breaker.on_success();
    for (int i = 0; i < 3; ++i) breaker.on_failure(ErrorKind::kServer);
    breaker.on_success();
    for (int i = 0; i < 5; ++i) breaker.on_failure(ErrorKind::kServer);
    CHECK(breaker.state() == BreakerState::kClosed);
  }
  // 15% random 500s: five in a row come every few thousand calls, yet 100,000 calls at full
  // speed never open it (several seeds, so a lucky one proves nothing).
  for (std::uint64_t seed : {1, 2, 3, 4, 5}) {
    INFO("seed " << seed);
    CHECK(calls_until_open(0.15, 100000, seed) == 0);
  }
}

TEST_CASE("CircuitBreaker opens within 5 calls when everything fails, and within its window at 60%", "[breaker]") {
  for (std::uint64_t seed : {1, 2, 3}) {
    INFO("seed " << seed);
    int opened = calls_until_open(1.0, 100, seed);
    CHECK(opened >= 1);
    CHECK(opened <= 5);
    // 60% failing: open well within the 30 s window (30,000 calls at this speed).
    int at_60 = calls_until_open(0.6, 30000, seed);
    CHECK(at_60 >= 1);
    CHECK(at_60 <= 30000);
    // A provider that dies after a healthy stretch: five in a row are beyond chance.
    CHECK(calls_until_open(1.0, 100, seed, 5000) == 5);
    CHECK(calls_until_open(1.0, 100, seed, 40) == 5);
  }
}
