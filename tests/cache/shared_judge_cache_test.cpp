// SharedJudgeCache against a real redis-server on a free loopback port, on a real libevent loop,
// in front of a real LocalJudgeCache. Two caches with their own connections and local files
// stand in for two machines.
#include "core/cache/shared_judge_cache.h"

#include <catch2/catch.hpp>

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "core/cache/local_judge_cache.h"
#include "core/common/event_loop.h"
#include "core/redis/redis_client.h"
#include "tests/support/files.h"
#include "tests/support/redis_server.h"

namespace {

using llmeval::LibeventLoop;
using llmeval::cache::CachedVerdict;
using llmeval::cache::LocalCacheOptions;
using llmeval::cache::LocalJudgeCache;
using llmeval::cache::SharedJudgeCache;
using llmeval::redis::parse_redis_url;
using llmeval::redis::RedisClient;
using llmeval::testing::RedisServer;
using llmeval::testing::TempDir;
using namespace std::chrono_literals;

// One machine: its own local cache file and Redis connection.
struct Machine {
  Machine(LibeventLoop& loop, const RedisServer& redis, const std::string& name)
      : client(loop, parse_redis_url(redis.url()).value()),
        local(open_local(dir, name)),
        shared(client, "test:", 3600s, local.get()) {}
  static std::unique_ptr<LocalJudgeCache> open_local(const TempDir& dir, const std::string& name) {
    LocalCacheOptions options;
    options.path = dir.file(name + "/judge-cache.sqlite3");
    return std::move(LocalJudgeCache::open(options)).value();
  }
  TempDir dir;
  RedisClient client;
  std::unique_ptr<LocalJudgeCache> local;
  SharedJudgeCache shared;
};

// Looks `key` up and runs the loop until the answer comes (or 2 s pass).
std::optional<CachedVerdict> lookup(LibeventLoop& loop, SharedJudgeCache& cache, const std::string& key) {
  std::optional<CachedVerdict> answer;
  bool answered = false;
  cache.lookup(key, [&](std::optional<CachedVerdict> v) {
    answer = std::move(v);
    answered = true;
    loop.stop();
  });
  if (!answered) {
    loop.add_timer(2000ms, [&loop] { loop.stop(); });
    loop.run();
  }
  REQUIRE(answered);
  return answer;
}

void settle(LibeventLoop& loop) {
  loop.add_timer(100ms, [&loop] { loop.stop(); });
  loop.run();
}

CachedVerdict verdict(double score) {
  CachedVerdict v;
  v.score = score;
  v.reason = "Correct.";
  v.model = "judge-model";
  v.tokens.input = 50;
  v.tokens.output = 10;
  v.latency_ms = 400;
  return v;
}

}  // namespace

TEST_CASE("SharedJudgeCache: what one machine stores, another finds through Redis", "[cache][redis]") {
  RedisServer redis;
  LibeventLoop loop;
  Machine a(loop, redis, "a");
  Machine b(loop, redis, "b");
  settle(loop);  // both connected

  a.shared.store("k", verdict(4));
  settle(loop);
  CHECK(a.local->get("k").has_value());      // written through to a's own file
  CHECK_FALSE(b.local->get("k").has_value());  // b has never seen it
  auto hit = lookup(loop, b.shared, "k");
  REQUIRE(hit.has_value());
  CHECK(hit->score == 4);
  CHECK(hit->tokens.input == 50);
  CHECK(b.local->get("k").has_value());  // copied into b's file: the next lookup stays local
  CHECK_FALSE(lookup(loop, b.shared, "absent").has_value());
}

TEST_CASE("SharedJudgeCache: Redis gone, lookups miss or use the local file, and nothing fails", "[cache][redis]") {
  RedisServer redis;
  LibeventLoop loop;
  Machine a(loop, redis, "a");
  settle(loop);
  a.shared.store("k", verdict(2));
  settle(loop);
  redis.kill();
  settle(loop);
  auto near = lookup(loop, a.shared, "k");  // the local file answers without Redis
  REQUIRE(near.has_value());
  CHECK(near->score == 2);
  CHECK_FALSE(lookup(loop, a.shared, "other").has_value());  // Redis cannot answer: a miss
  a.shared.store("k2", verdict(3));  // dropped in Redis, kept locally
  settle(loop);
  CHECK(a.local->get("k2").has_value());
}
