// LocalJudgeCache on a real SQLite file in a temporary directory.
#include <catch2/catch.hpp>

#include <sqlite3.h>

#include <cstdint>
#include <filesystem>
#include <string>

#include "core/cache/cache_key.h"
#include "core/cache/local_judge_cache.h"
#include "tests/support/files.h"

using llmeval::cache::CachedVerdict;
using llmeval::cache::LocalCacheOptions;
using llmeval::cache::LocalJudgeCache;
using llmeval::testing::TempDir;

namespace {

CachedVerdict verdict(double score, const std::string& reason = "Correct.") {
  CachedVerdict v;
  v.score = score;
  v.reason = reason;
  v.model = "judge-model";
  v.tokens.input = 120;
  v.tokens.output = 30;
  v.tokens.cached_input = 100;
  v.tokens.cache_write = 7;
  v.tokens.reasoning = 5;
  v.latency_ms = 850;
  return v;
}

struct Fixture {
  TempDir dir;
  std::int64_t now = 1'800'000'000;
  LocalCacheOptions options() {
    LocalCacheOptions o;
    o.path = dir.file("cache/judge-cache.sqlite3");
    o.now_seconds = [this] { return now; };
    return o;
  }
};

}  // namespace

TEST_CASE("LocalJudgeCache returns what was stored, field for field, across reopening", "[cache]") {
  Fixture f;
  {
    auto cache = LocalJudgeCache::open(f.options());
    REQUIRE(cache.ok());
    CHECK_FALSE(cache.value()->get("k1").has_value());
    cache.value()->store("k1", verdict(4, "Says \"Paris\"\n— correct."));
  }
  auto cache = LocalJudgeCache::open(f.options());
  REQUIRE(cache.ok());
  auto hit = cache.value()->get("k1");
  REQUIRE(hit.has_value());
  CHECK(hit->score == 4);
  CHECK(hit->reason == "Says \"Paris\"\n— correct.");
  CHECK(hit->model == "judge-model");
  CHECK(hit->tokens.input == 120);
  CHECK(hit->tokens.output == 30);
  CHECK(hit->tokens.cached_input == 100);
  CHECK(hit->tokens.cache_write == 7);
  CHECK(hit->tokens.reasoning == 5);
  CHECK(hit->latency_ms == 850);
  CHECK_FALSE(cache.value()->get("k2").has_value());
  // The directory holds what the judged outputs said: only its owner may read it.
  auto perms = std::filesystem::status(f.dir.file("cache")).permissions();
  CHECK((perms & std::filesystem::perms::others_read) == std::filesystem::perms::none);
}

TEST_CASE("LocalJudgeCache entries expire after the TTL", "[cache]") {
  Fixture f;
  LocalCacheOptions options = f.options();
  options.ttl = std::chrono::seconds(100);
  auto cache = LocalJudgeCache::open(options);
  REQUIRE(cache.ok());
  cache.value()->store("k", verdict(3));
  f.now += 99;
  CHECK(cache.value()->get("k").has_value());
  f.now += 1;
  CHECK_FALSE(cache.value()->get("k").has_value());
  auto stats = cache.value()->stats();
  REQUIRE(stats.ok());
  CHECK(stats.value().entries == 0);
  CHECK(stats.value().expired == 1);
}

TEST_CASE("LocalJudgeCache stays near its size bound by evicting the oldest entries", "[cache]") {
  Fixture f;
  LocalCacheOptions options = f.options();
  options.max_bytes = 512 * 1024;
  auto cache = LocalJudgeCache::open(options);
  REQUIRE(cache.ok());
  const std::string reason(1000, 'r');  // ~1.1 KB an entry: 5,000 entries are ~5.5 MB unbounded
  for (int i = 0; i < 5000; ++i) {
    f.now += 1;
    cache.value()->store(llmeval::cache::sha256_hex(std::to_string(i)), verdict(i % 5 + 1, reason));
  }
  auto stats = cache.value()->stats();
  REQUIRE(stats.ok());
  INFO("data " << stats.value().data_bytes << " bytes, " << stats.value().entries << " entries");
  // Checked every 256 writes: up to 256 entries (~300 KB) past the bound between checks.
  CHECK(stats.value().data_bytes <= options.max_bytes + 320 * 1024);
  CHECK(stats.value().file_bytes < 2 * 1024 * 1024);  // freed pages are reused, not appended
  CHECK(stats.value().entries < 1000);
  CHECK(cache.value()->get(llmeval::cache::sha256_hex("4999")).has_value());  // the newest stay
  CHECK_FALSE(cache.value()->get(llmeval::cache::sha256_hex("0")).has_value());  // the oldest went first
}

TEST_CASE("LocalJudgeCache::clear empties the file and says how many entries it held", "[cache]") {
  Fixture f;
  auto cache = LocalJudgeCache::open(f.options());
  REQUIRE(cache.ok());
  for (int i = 0; i < 10; ++i) cache.value()->store("k" + std::to_string(i), verdict(2));
  auto stats = cache.value()->stats();
  REQUIRE(stats.ok());
  CHECK(stats.value().entries == 10);
  CHECK(stats.value().oldest == f.now);
  auto cleared = cache.value()->clear();
  REQUIRE(cleared.ok());
  CHECK(cleared.value() == 10);
  CHECK_FALSE(cache.value()->get("k3").has_value());
  CHECK(cache.value()->stats().value().entries == 0);
}

TEST_CASE("LocalJudgeCache treats a damaged entry as a miss and names a path it cannot open", "[cache]") {
  Fixture f;
  LocalCacheOptions options = f.options();
  {
    auto cache = LocalJudgeCache::open(options);
    REQUIRE(cache.ok());
    cache.value()->store("k", verdict(5));
  }
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open(options.path.c_str(), &db) == SQLITE_OK);
  CHECK(sqlite3_exec(db, "UPDATE verdicts SET value = '{\"score\": \"five\"}'", nullptr, nullptr, nullptr) == SQLITE_OK);
  sqlite3_close(db);
  auto cache = LocalJudgeCache::open(options);
  REQUIRE(cache.ok());
  CHECK_FALSE(cache.value()->get("k").has_value());

  options.path = f.dir.file("not-a-dir");
  llmeval::testing::write_file(options.path, "x");
  options.path += "/cache.sqlite3";
  auto refused = LocalJudgeCache::open(options);
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error().message.find("not-a-dir") != std::string::npos);
}
