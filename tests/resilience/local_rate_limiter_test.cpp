#include "core/resilience/local_rate_limiter.h"

#include <catch2/catch.hpp>

#include <optional>

#include "tests/fakes/fake_clock.h"

using namespace std::chrono_literals;
using llmeval::resilience::Admission;
using llmeval::resilience::Limits;
using llmeval::resilience::LocalRateLimiter;
using llmeval::testing::FakeClock;

namespace {

// acquire() answers synchronously; returns the Admission it gave.
Admission acquire(LocalRateLimiter& limiter, const std::string& key, std::int64_t tokens) {
  std::optional<Admission> got;
  limiter.acquire(key, tokens, [&](llmeval::Result<Admission> result) {
    REQUIRE(result.ok());
    got = result.value();
  });
  REQUIRE(got.has_value());
  return *got;
}

// Tests set a one-minute burst, so the bucket holds the whole per-minute limit and the numbers
// read as "N per minute", and let the new (empty) buckets fill first.
LocalRateLimiter& fill(LocalRateLimiter& limiter, FakeClock& clock) {
  clock.advance(std::chrono::hours(1));
  return limiter;
}

}  // namespace

TEST_CASE("LocalRateLimiter admits everything for a key without limits", "[limiter]") {
  FakeClock clock;
  LocalRateLimiter limiter(clock);
  for (int i = 0; i < 1000; ++i) CHECK(acquire(limiter, "unknown", 1'000'000).granted);
  limiter.set_limits("zero", Limits{0, 0, 60s});
  for (int i = 0; i < 1000; ++i) CHECK(acquire(limiter, "zero", 1'000'000).granted);
  limiter.reconcile("unknown", 10, 20);  // no-op, no crash
}

TEST_CASE("LocalRateLimiter enforces requests per minute", "[limiter]") {
  FakeClock clock;
  LocalRateLimiter limiter(clock);
  limiter.set_limits("p", Limits{60, 0, 60s});  // one request per second
  fill(limiter, clock);
  for (int i = 0; i < 60; ++i) REQUIRE(acquire(limiter, "p", 0).granted);
  Admission refused = acquire(limiter, "p", 0);
  CHECK_FALSE(refused.granted);
  CHECK(refused.retry_after == 1000ms);
  clock.advance(refused.retry_after);
  CHECK(acquire(limiter, "p", 0).granted);
  CHECK_FALSE(acquire(limiter, "p", 0).granted);
  SECTION("keys are independent") {
    limiter.set_limits("q", Limits{1, 0, 60s});
    fill(limiter, clock);
    CHECK(acquire(limiter, "q", 0).granted);
    CHECK_FALSE(acquire(limiter, "q", 0).granted);
    CHECK(acquire(limiter, "other", 0).granted);
  }
}

TEST_CASE("LocalRateLimiter enforces tokens per minute", "[limiter]") {
  FakeClock clock;
  LocalRateLimiter limiter(clock);
  limiter.set_limits("p", Limits{0, 6000, 60s});  // 100 tokens per second
  fill(limiter, clock);
  CHECK(acquire(limiter, "p", 5000).granted);
  CHECK(acquire(limiter, "p", 1000).granted);
  Admission refused = acquire(limiter, "p", 500);
  CHECK_FALSE(refused.granted);
  CHECK(refused.retry_after == 5000ms);
  clock.advance(5s);
  CHECK(acquire(limiter, "p", 500).granted);
  SECTION("a request larger than the whole limit still passes once the bucket is full") {
    clock.advance(1min);
    CHECK(acquire(limiter, "p", 100'000).granted);
    CHECK_FALSE(acquire(limiter, "p", 1).granted);
  }
}

TEST_CASE("LocalRateLimiter takes all or nothing across rpm and tpm", "[limiter]") {
  FakeClock clock;
  LocalRateLimiter limiter(clock);
  limiter.set_limits("p", Limits{60, 600, 60s});  // 1 request/s, 10 tokens/s
  fill(limiter, clock);

  SECTION("a tpm refusal gives the request back") {
    REQUIRE(acquire(limiter, "p", 600).granted);  // empties tpm, takes 1 of 60 requests
    for (int i = 0; i < 10; ++i) {
      Admission refused = acquire(limiter, "p", 100);
      CHECK_FALSE(refused.granted);
      CHECK(refused.retry_after == 10000ms);
    }
    // Had the refusals kept their requests, only 49 of the 59 left would pass now.
    for (int i = 0; i < 59; ++i) REQUIRE(acquire(limiter, "p", 0).granted);
    CHECK_FALSE(acquire(limiter, "p", 0).granted);
  }
  SECTION("an rpm refusal gives the tokens back, and the longer wait wins") {
    for (int i = 0; i < 60; ++i) REQUIRE(acquire(limiter, "p", 0).granted);  // empties rpm
    for (int i = 0; i < 5; ++i) {
      Admission refused = acquire(limiter, "p", 100);
      CHECK_FALSE(refused.granted);
      CHECK(refused.retry_after == 1000ms);  // tpm could pay; rpm needs 1 s
    }
    clock.advance(1s);
    REQUIRE(acquire(limiter, "p", 600).granted);  // had they kept their 500 tokens, 110 would be left
  }
  SECTION("both refuse: the longer wait") {
    for (int i = 0; i < 60; ++i) REQUIRE(acquire(limiter, "p", 10).granted);  // 60 requests, 600 tokens
    Admission refused = acquire(limiter, "p", 50);
    CHECK_FALSE(refused.granted);
    CHECK(refused.retry_after == 5000ms);  // rpm 1 s, tpm 5 s
  }
}

TEST_CASE("LocalRateLimiter reconcile corrects the token reservation", "[limiter]") {
  FakeClock clock;
  LocalRateLimiter limiter(clock);
  limiter.set_limits("p", Limits{0, 1000, 60s});
  fill(limiter, clock);
  REQUIRE(acquire(limiter, "p", 600).granted);
  SECTION("unused tokens come back") {
    limiter.reconcile("p", 600, 100);
    CHECK(acquire(limiter, "p", 900).granted);
  }
  SECTION("an overrun takes the excess") {
    limiter.reconcile("p", 600, 900);  // 100 left
    Admission refused = acquire(limiter, "p", 400);
    CHECK_FALSE(refused.granted);
    CHECK(refused.retry_after == 18000ms);  // 300 tokens at 1000/min
  }
  SECTION("a reservation larger than the bucket reconciles against all it took") {
    clock.advance(1min);                            // full again
    REQUIRE(acquire(limiter, "p", 5000).granted);   // took 5000: 4000 in debt
    limiter.reconcile("p", 5000, 200);              // gives back 4800: 800 left
    CHECK(acquire(limiter, "p", 800).granted);
    CHECK_FALSE(acquire(limiter, "p", 1).granted);
  }
}

TEST_CASE("LocalRateLimiter set_limits keeps state when unchanged, resets when changed", "[limiter]") {
  FakeClock clock;
  LocalRateLimiter limiter(clock);
  limiter.set_limits("p", Limits{2, 0, 60s});
  fill(limiter, clock);
  REQUIRE(acquire(limiter, "p", 0).granted);
  REQUIRE(acquire(limiter, "p", 0).granted);
  limiter.set_limits("p", Limits{2, 0, 60s});
  CHECK_FALSE(acquire(limiter, "p", 0).granted);
  limiter.set_limits("p", Limits{3, 0, 60s});  // a new limit starts empty
  CHECK_FALSE(acquire(limiter, "p", 0).granted);
  clock.advance(20s);
  CHECK(acquire(limiter, "p", 0).granted);
  limiter.set_limits("p", Limits{0, 0, 60s});  // unlimited
  for (int i = 0; i < 100; ++i) CHECK(acquire(limiter, "p", 0).granted);
}

TEST_CASE("LocalRateLimiter holds every caller off after a Retry-After", "[limiter]") {
  FakeClock clock;
  LocalRateLimiter limiter(clock);
  limiter.set_limits("limited", Limits{1000, 0, 60s});
  fill(limiter, clock);
  for (const std::string key : {"limited", "unlimited"}) {
    INFO(key);
    limiter.hold_off(key, 3000ms);
    limiter.hold_off(key, 1000ms);  // a shorter hold does not shorten the longer one
    Admission held = acquire(limiter, key, 10);
    CHECK_FALSE(held.granted);
    CHECK(held.retry_after == 3000ms);
    clock.advance(2999ms);
    CHECK_FALSE(acquire(limiter, key, 10).granted);
    clock.advance(1ms);
    CHECK(acquire(limiter, key, 10).granted);
  }
}

TEST_CASE("LocalRateLimiter: the burst setting bounds what a full bucket lets out at once", "[limiter]") {
  FakeClock clock;
  LocalRateLimiter limiter(clock);
  auto burst_after_idle = [&](const std::string& key) {
    fill(limiter, clock);
    int granted = 0;
    while (acquire(limiter, key, 0).granted) ++granted;
    return granted;
  };
  limiter.set_limits("default", Limits{600, 0});  // 10 a second; by default one second's worth
  CHECK(burst_after_idle("default") == 10);
  limiter.set_limits("tight", Limits{600, 0, 200ms});  // a provider that allows 200 ms of burst
  CHECK(burst_after_idle("tight") == 2);
  limiter.set_limits("tiny", Limits{600, 0, 1ms});  // never less than one request
  CHECK(burst_after_idle("tiny") == 1);
  SECTION("changing the burst reshapes the bucket") {
    limiter.set_limits("tight", Limits{600, 0, 500ms});
    CHECK(burst_after_idle("tight") == 5);
  }
}
