// llmeval_cache_bench: the cost of a judge-cache lookup, on this machine's file (SQLite) and in
// Redis (through SharedJudgeCache with no local file, so every lookup is a round trip).
//
// Not a test: it prints figures (tests/bench/judge_cache.py starts a fresh redis-server and runs
// it). It fills a fresh cache file in --dir with --entries verdicts (about 300 bytes each, like a
// real one), then times --lookups operations of each kind, one at a time, in microseconds:
//   local_hit    LocalJudgeCache::get of a random stored key
//   local_miss   get of a key that is not there
//   local_store  store of a new entry (one transaction, WAL, synchronous=NORMAL)
//   redis_hit    SharedJudgeCache::lookup of a stored key: lookup() to its callback, on the loop
//   redis_miss   the same for a key Redis does not have
// Exit codes: 0 done; 1 a lookup that should hit missed; 2 usage, or no cache or Redis.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/cache/cache_key.h"
#include "core/cache/local_judge_cache.h"
#include "core/cache/shared_judge_cache.h"
#include "core/common/event_loop.h"
#include "core/redis/redis_client.h"
#include "core/redis/redis_url.h"

namespace {

using Clock = std::chrono::steady_clock;
using llmeval::cache::CachedVerdict;

double micros(Clock::duration d) { return std::chrono::duration<double, std::micro>(d).count(); }

nlohmann::json percentiles(std::vector<double> samples) {
  std::sort(samples.begin(), samples.end());
  auto at = [&](double p) { return samples[static_cast<std::size_t>(p * static_cast<double>(samples.size() - 1))]; };
  return {{"n", samples.size()}, {"p50_us", at(0.50)}, {"p99_us", at(0.99)}, {"max_us", samples.back()}};
}

CachedVerdict verdict(int i) {
  CachedVerdict v;
  v.score = i % 5 + 1;
  v.reason = "The answer names the right city and gives the reason the rubric asks for; nothing in it is wrong, "
             "so it meets the criterion in full (entry " + std::to_string(i) + ").";
  v.model = "gpt-4o-mini-2024-07-18";
  v.tokens.input = 320;
  v.tokens.output = 45;
  v.latency_ms = 812;
  return v;
}

std::string key(int i) { return llmeval::cache::sha256_hex("entry " + std::to_string(i)); }

}  // namespace

int main(int argc, char** argv) {
  std::string redis_url, dir = "/tmp";
  int entries = 100000, lookups = 20000;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string flag = argv[i];
    if (flag == "--redis") redis_url = argv[i + 1];
    else if (flag == "--dir") dir = argv[i + 1];
    else if (flag == "--entries") entries = std::atoi(argv[i + 1]);
    else if (flag == "--lookups") lookups = std::atoi(argv[i + 1]);
    else {
      std::fprintf(stderr, "usage: %s [--redis URL] [--dir DIR] [--entries N] [--lookups N]\n", argv[0]);
      return 2;
    }
  }
  llmeval::cache::LocalCacheOptions options;
  options.path = dir + "/judge-cache-bench.sqlite3";
  std::remove(options.path.c_str());
  auto opened = llmeval::cache::LocalJudgeCache::open(options);
  if (!opened.ok()) {
    std::fprintf(stderr, "%s\n", opened.error().message.c_str());
    return 2;
  }
  auto& local = *opened.value();
  for (int i = 0; i < entries; ++i) local.store(key(i), verdict(i));

  std::mt19937 random(7);
  std::uniform_int_distribution<int> stored(0, entries - 1);
  nlohmann::json report = {{"entries", entries}};
  std::vector<double> hit, miss, store;
  int missed = 0;
  for (int n = 0; n < lookups; ++n) {
    std::string k = key(stored(random));
    auto t0 = Clock::now();
    bool found = local.get(k).has_value();
    hit.push_back(micros(Clock::now() - t0));
    missed += found ? 0 : 1;
    std::string absent = key(entries + n);
    t0 = Clock::now();
    found = local.get(absent).has_value();
    miss.push_back(micros(Clock::now() - t0));
    t0 = Clock::now();
    local.store(absent, verdict(n));
    store.push_back(micros(Clock::now() - t0));
  }
  report["local_hit"] = percentiles(hit);
  report["local_miss"] = percentiles(miss);
  report["local_store"] = percentiles(store);

  if (!redis_url.empty()) {
    auto url = llmeval::redis::parse_redis_url(redis_url);
    if (!url) return 2;
    llmeval::LibeventLoop loop;
    // Filling sends thousands of SETs at once: a deadline of a second, not a run's 50 ms, so
    // that the fill itself never drops the connection.
    llmeval::redis::RedisClientOptions client_options;
    client_options.command_timeout = std::chrono::seconds(1);
    llmeval::redis::RedisClient client(loop, url.value(), client_options);
    llmeval::cache::SharedJudgeCache shared(client, "bench:", std::chrono::hours(1), nullptr);
    loop.add_timer(std::chrono::milliseconds(200), [&loop] { loop.stop(); });
    loop.run();  // connected
    const int redis_entries = std::min(entries, lookups);
    for (int i = 0; i < redis_entries; ++i) {
      shared.store(key(i), verdict(i));
      if (i % 500 == 499 || i == redis_entries - 1) {  // in batches, each answered before the next
        shared.when_flushed([&loop] { loop.stop(); });
        loop.run();
      }
    }
    std::vector<double> redis_hit, redis_miss;
    auto time_lookup = [&](const std::string& k, std::vector<double>& into, bool expect) {
      auto t0 = Clock::now();
      shared.lookup(k, [&, t0, expect](std::optional<CachedVerdict> v) {
        into.push_back(micros(Clock::now() - t0));
        if (v.has_value() != expect) ++missed;
        loop.stop();
      });
      loop.run();
    };
    std::uniform_int_distribution<int> in_redis(0, redis_entries - 1);
    for (int n = 0; n < lookups; ++n) {
      time_lookup(key(in_redis(random)), redis_hit, true);
      time_lookup(key(10'000'000 + n), redis_miss, false);
    }
    report["redis_hit"] = percentiles(redis_hit);
    report["redis_miss"] = percentiles(redis_miss);
  }
  report["unexpected_misses"] = missed;
  std::printf("%s\n", report.dump().c_str());
  std::remove(options.path.c_str());
  return missed == 0 ? 0 : 1;
}
