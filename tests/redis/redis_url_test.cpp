#include "core/redis/redis_url.h"

#include <catch2/catch.hpp>

using llmeval::redis::parse_redis_url;

TEST_CASE("parse_redis_url reads host, port, password and db", "[redis]") {
  struct Case {
    const char* text;
    const char* host;
    int port;
    const char* user;
    const char* password;
    int db;
  };
  const Case cases[] = {
      {"redis://127.0.0.1:6379/0", "127.0.0.1", 6379, "", "", 0},
      {"redis://redis:6380/2", "redis", 6380, "", "", 2},
      {"redis://redis", "redis", 6379, "", "", 0},
      {"redis://:s3cret@10.0.0.5:7000/1", "10.0.0.5", 7000, "", "s3cret", 1},
      {"redis://app:pa@ss@cache:6379", "cache", 6379, "app", "pa@ss", 0},
      {"redis://", "127.0.0.1", 6379, "", "", 0},
  };
  for (const auto& c : cases) {
    INFO(c.text);
    auto url = parse_redis_url(c.text);
    REQUIRE(url.ok());
    CHECK(url.value().host == c.host);
    CHECK(url.value().port == c.port);
    CHECK(url.value().user == c.user);
    CHECK(url.value().password == c.password);
    CHECK(url.value().db == c.db);
  }
}

TEST_CASE("parse_redis_url refuses what it cannot use, without echoing secrets", "[redis]") {
  for (const char* text : {"http://redis:6379", "redis://host:port/0", "redis://host:70000", "redis://host:6379/x",
                           "redis://password@host:6379"}) {
    INFO(text);
    auto url = parse_redis_url(text);
    REQUIRE_FALSE(url.ok());
    CHECK(url.error().message.find("redis://[:password@]host:port/db") != std::string::npos);
    CHECK(url.error().message.find("password@host") == std::string::npos);
  }
}

TEST_CASE("RedisUrl::to_display leaves the password out", "[redis]") {
  auto url = parse_redis_url("redis://:hunter2@cache:6379/3");
  REQUIRE(url.ok());
  CHECK(url.value().to_display() == "redis://cache:6379/3");
}
