// The real redis-server the Redis integration tests run against: start, stall, kill, restart.
#include "tests/support/redis_server.h"

#include <catch2/catch.hpp>
#include <chrono>

using namespace std::chrono_literals;
using llmeval::testing::RedisServer;

TEST_CASE("RedisServer runs a real redis-server that tests can stall, kill and restart", "[redis]") {
  RedisServer redis;
  CHECK(redis.port() > 0);
  CHECK(redis.url() == "redis://127.0.0.1:" + std::to_string(redis.port()) + "/0");

  CHECK(redis.command({"SET", "greeting", "hello world"}) == "OK");
  CHECK(redis.command({"GET", "greeting"}) == "hello world");
  CHECK(redis.command({"INCRBY", "counter", "5"}) == "5");
  CHECK(redis.command({"GET", "missing"}) == "(nil)");
  CHECK(redis.command({"RPUSH", "list", "a", "b"}) == "2");
  CHECK(redis.command({"LRANGE", "list", "0", "-1"}) == "a\nb");
  CHECK_THROWS(redis.command({"NO-SUCH-COMMAND"}));

  redis.pause();
  auto start = std::chrono::steady_clock::now();
  CHECK_THROWS(redis.command({"PING"}, 200ms));  // connects, but nothing answers
  CHECK(std::chrono::steady_clock::now() - start < 1s);
  redis.resume();
  CHECK(redis.command({"GET", "greeting"}) == "hello world");

  redis.kill();
  CHECK_THROWS(redis.command({"PING"}, 200ms));  // refused

  redis.restart();
  CHECK(redis.command({"PING"}) == "PONG");
  CHECK(redis.command({"GET", "greeting"}) == "(nil)");  // a fresh server
  CHECK(redis.command({"DBSIZE"}) == "0");
}

TEST_CASE("RedisServer instances get ports of their own", "[redis]") {
  RedisServer first;
  RedisServer second;
  CHECK(first.port() != second.port());
  first.command({"SET", "k", "first"});
  CHECK(second.command({"GET", "k"}) == "(nil)");

  second.pause();  // the destructor resumes it before stopping it
}
