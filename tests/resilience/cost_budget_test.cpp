// The cost budget: LocalCostBudget alone, and RedisCostBudget shared by two "processes" (each
// its own connection) through a real redis-server, including Redis going away mid-run.
#include "core/resilience/cost_budget.h"

#include <catch2/catch.hpp>

#include <chrono>
#include <optional>

#include "core/common/event_loop.h"
#include "core/redis/redis_client.h"
#include "core/resilience/redis_cost_budget.h"
#include "tests/support/redis_server.h"

namespace {

using llmeval::LibeventLoop;
using llmeval::redis::parse_redis_url;
using llmeval::redis::RedisClient;
using llmeval::resilience::CostBudget;
using llmeval::resilience::LocalCostBudget;
using llmeval::resilience::Nanodollars;
using llmeval::resilience::RedisCostBudget;
using llmeval::resilience::to_dollars;
using llmeval::resilience::to_nanodollars;
using llmeval::testing::RedisServer;
using namespace std::chrono_literals;

// Runs the loop until the reservation is answered.
bool reserve(LibeventLoop& loop, CostBudget& budget, Nanodollars amount) {
  std::optional<bool> answer;
  budget.reserve(amount, [&](bool granted) {
    answer = granted;
    loop.stop();
  });
  if (!answer) {
    loop.add_timer(2s, [&loop] { loop.stop(); });
    loop.run();
  }
  REQUIRE(answer);
  return *answer;
}

void settle_all(LibeventLoop& loop) {
  loop.add_timer(100ms, [&loop] { loop.stop(); });
  loop.run();
}

}  // namespace

TEST_CASE("cost budget: amounts are exact nano-dollars", "[budget]") {
  CHECK(to_nanodollars(0.000001) == 1000);
  CHECK(to_nanodollars(12.5) == 12'500'000'000);
  CHECK(to_dollars(to_nanodollars(3.25)) == 3.25);
}

TEST_CASE("LocalCostBudget: reserves while spend + reservations fit, settles at the actual cost", "[budget]") {
  LocalCostBudget budget(100);
  bool granted = false;
  budget.reserve(60, [&](bool g) { granted = g; });
  CHECK(granted);
  budget.reserve(50, [&](bool g) { granted = g; });  // 60 + 50 > 100
  CHECK_FALSE(granted);
  budget.reserve(40, [&](bool g) { granted = g; });  // exactly the limit
  CHECK(granted);
  budget.settle(60, 10);  // the first call cost far less than its worst case
  CHECK(budget.spent() == 10);
  budget.reserve(50, [&](bool g) { granted = g; });  // 10 spent + 40 reserved + 50
  CHECK(granted);
  budget.settle(40, 40);
  budget.settle(50, 45);
  CHECK(budget.spent() == 95);
  CHECK(budget.spent_here() == 95);
  budget.reserve(6, [&](bool g) { granted = g; });
  CHECK_FALSE(granted);
}

TEST_CASE("RedisCostBudget: two processes share one limit and see each other's spend", "[budget][redis]") {
  RedisServer redis;
  LibeventLoop loop;
  RedisClient client_a(loop, parse_redis_url(redis.url()).value());
  RedisClient client_b(loop, parse_redis_url(redis.url()).value());
  RedisCostBudget a(client_a, "test:budget:job", 1000);
  RedisCostBudget b(client_b, "test:budget:job", 1000);
  RedisCostBudget other(client_b, "test:budget:another-job", 1000);

  CHECK(reserve(loop, a, 600));
  CHECK_FALSE(reserve(loop, b, 500));  // 600 committed by a
  CHECK(reserve(loop, other, 500));    // another key, another budget
  CHECK(reserve(loop, b, 400));
  a.settle(600, 100);
  settle_all(loop);
  CHECK(reserve(loop, b, 400));  // 100 spent + 400 reserved + 400
  b.settle(400, 400);
  b.settle(400, 300);
  settle_all(loop);
  CHECK(a.spent_here() == 100);
  CHECK(b.spent_here() == 700);
  CHECK_FALSE(reserve(loop, a, 201));  // 800 spent
  CHECK(a.spent() == 800);             // what Redis said with the refusal
  CHECK(redis.command({"HGET", "test:budget:job", "spent"}) == "800");
  CHECK(redis.command({"HGET", "test:budget:job", "committed"}) == "800");
  CHECK(std::stoi(redis.command({"TTL", "test:budget:job"})) > 86400);

  SECTION("a higher limit (a resume with a higher --max-cost) goes on from what was spent") {
    RedisCostBudget raised(client_a, "test:budget:job", 2000);
    CHECK(reserve(loop, raised, 1200));
    CHECK_FALSE(reserve(loop, raised, 1));
  }
  SECTION("with Redis gone it goes on from what it last knew, and still stops at the limit") {
    redis.kill();
    CHECK(reserve(loop, a, 150));        // 800 known + 150
    CHECK_FALSE(reserve(loop, a, 100));  // 800 + 150 + 100 > 1000
    CHECK(reserve(loop, a, 50));
  }
}
