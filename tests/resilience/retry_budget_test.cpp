#include <catch2/catch.hpp>

#include "core/resilience/retry_budget.h"
#include "core/resilience/sliding_window.h"
#include "tests/fakes/fake_clock.h"

using llmeval::resilience::RetryBudget;
using llmeval::resilience::RetryBudgetOptions;
using llmeval::resilience::SlidingWindow;
using llmeval::testing::FakeClock;
using namespace std::chrono_literals;

TEST_CASE("SlidingWindow forgets what is older than its window", "[limiter]") {
  FakeClock clock;
  SlidingWindow window(clock, 10s);
  window.add(3, 1);
  clock.advance(5s);
  window.add(2, 0);
  CHECK(window.totals().first == 5);
  CHECK(window.totals().second == 1);
  clock.advance(5s);
  CHECK(window.totals().first == 2);
  clock.advance(5s);
  CHECK(window.totals().first == 0);
}

TEST_CASE("RetryBudget allows a floor of retries plus a share of requests", "[limiter]") {
  FakeClock clock;
  RetryBudget budget(clock, RetryBudgetOptions{0.1, 10, 10s});
  int spent = 0;
  while (budget.try_spend()) ++spent;
  CHECK(spent == 10);  // the floor, with no requests yet

  for (int i = 0; i < 100; ++i) budget.on_request();
  spent = 0;
  while (budget.try_spend()) ++spent;
  CHECK(spent == 10);  // 10% of 100 requests on top of the floor

  clock.advance(10s);  // a new window
  CHECK(budget.try_spend());
}
