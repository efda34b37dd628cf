// The judge cache end to end: the real llmeval binary against the real fake provider, with a
// local cache file in a directory of each test's own (XDG_CACHE_HOME) and, for the shared
// cache, a real redis-server. tests/main.cpp turns the cache off for every other test.
#include <catch2/catch.hpp>

#include <sqlite3.h>

#include <chrono>
#include <csignal>
#include <filesystem>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/support/build_paths.h"
#include "tests/support/fake_provider.h"
#include "tests/support/files.h"
#include "tests/support/process.h"
#include "tests/support/redis_server.h"

namespace {

using llmeval::testing::BackgroundProcess;
using llmeval::testing::FakeProviderServer;
using llmeval::testing::read_lines;
using llmeval::testing::RedisServer;
using llmeval::testing::run_process;
using llmeval::testing::TempDir;
using llmeval::testing::write_file;
using nlohmann::json;
using namespace std::chrono_literals;

// The environment of a run on "a machine" whose judge cache is under `cache_home`.
std::map<std::string, std::string> machine(const std::string& cache_home) {
  return {{"XDG_CACHE_HOME", cache_home}, {"LLMEVAL_CACHE", "readwrite"}, {"no_proxy", "127.0.0.1"}};
}

std::string row(int i, const std::string& rubric = "The answer is correct.") {
  return json{{"id", "q" + std::to_string(i)},
              {"prompt", "What is " + std::to_string(i) + " + 1?"},
              {"output", std::to_string(i + 1)},
              {"criteria", rubric}}
             .dump() +
         "\n";
}

std::string dataset(int rows) {
  std::string text;
  for (int i = 0; i < rows; ++i) text += row(i);
  return text;
}

int judge_calls(const FakeProviderServer& fake) { return fake.stats().at("by_path").value("/v1/chat/completions", 0); }

std::vector<std::string> run_args(const FakeProviderServer& fake, const std::string& data, const std::string& out,
                                  std::vector<std::string> extra = {}) {
  std::vector<std::string> argv = {llmeval::testing::llmeval_binary(),
                                   "run",
                                   data,
                                   "-o",
                                   out,
                                   "-q",
                                   "-j",
                                   "32",
                                   "-p",
                                   "openai:judge-model@" + fake.base_url_openai()};
  argv.insert(argv.end(), extra.begin(), extra.end());
  return argv;
}

std::map<std::string, json> rows_by_id(const std::string& path) {
  std::map<std::string, json> rows;
  for (const auto& line : read_lines(path)) {
    json r = json::parse(line);
    rows[r.at("id").get<std::string>()] = r;
  }
  return rows;
}

}  // namespace

TEST_CASE("judge cache: a rerun makes no call, a changed rubric only its own, --no-cache every one",
          "[integration][cache]") {
  FakeProviderServer fake;
  TempDir dir;
  const auto env = machine(dir.file("cache-home"));
  write_file(dir.file("data.jsonl"), dataset(1000));

  auto first = run_process(run_args(fake, dir.file("data.jsonl"), dir.file("first.jsonl")), "", env);
  REQUIRE(first.exit_code == 0);
  CHECK(judge_calls(fake) == 1000);

  fake.reset_stats();
  auto second = run_process(run_args(fake, dir.file("data.jsonl"), dir.file("second.jsonl"),
                                     {"--summary", dir.file("summary.json")}),
                            "", env);
  REQUIRE(second.exit_code == 0);
  CHECK(judge_calls(fake) == 0);
  auto before = rows_by_id(dir.file("first.jsonl"));
  auto after = rows_by_id(dir.file("second.jsonl"));
  REQUIRE(after.size() == 1000);
  for (const auto& [id, r] : after) {
    INFO(id);
    const json& was = before.at(id).at("criteria").at("default");
    const json& is = r.at("criteria").at("default");
    CHECK(is.at("score") == was.at("score"));
    CHECK(is.at("reason") == was.at("reason"));
    CHECK(r.at("pass") == before.at(id).at("pass"));
    CHECK(is.at("judge").at("cached") == true);
    CHECK(is.at("judge").at("attempts") == 0);
    CHECK(is.at("judge").at("tokens") == was.at("judge").at("tokens"));
    CHECK(is.at("judge").at("latency_ms") == was.at("judge").at("latency_ms"));
    CHECK_FALSE(was.at("judge").contains("cached"));
  }
  json summary = json::parse(llmeval::testing::read_file(dir.file("summary.json")));
  CHECK(summary.at("cache_hits") == 1000);
  CHECK(summary.at("provider_requests") == 0);
  CHECK(summary.at("tokens").at("input") == 0);  // nothing spent in this run

  // One rubric changed on 50 rows: exactly those 50 are judged again.
  std::string changed;
  for (int i = 0; i < 1000; ++i) changed += i % 20 == 7 ? row(i, "The answer is correct and complete.") : row(i);
  write_file(dir.file("changed.jsonl"), changed);
  fake.reset_stats();
  REQUIRE(run_process(run_args(fake, dir.file("changed.jsonl"), dir.file("third.jsonl")), "", env).exit_code == 0);
  CHECK(judge_calls(fake) == 50);

  fake.reset_stats();
  REQUIRE(run_process(run_args(fake, dir.file("data.jsonl"), dir.file("fourth.jsonl"), {"--no-cache"}), "", env)
              .exit_code == 0);
  CHECK(judge_calls(fake) == 1000);

  // read: reuses, stores nothing new; write: calls every judge and stores.
  fake.reset_stats();
  write_file(dir.file("new.jsonl"), row(5000) + row(1));
  REQUIRE(run_process(run_args(fake, dir.file("new.jsonl"), dir.file("r1.jsonl"), {"--cache-mode", "read"}), "", env)
              .exit_code == 0);
  CHECK(judge_calls(fake) == 1);  // row 1 was cached; 5000 was not, and is not stored
  REQUIRE(run_process(run_args(fake, dir.file("new.jsonl"), dir.file("r2.jsonl"), {"--cache-mode", "write"}), "", env)
              .exit_code == 0);
  CHECK(judge_calls(fake) == 3);  // both called
  REQUIRE(run_process(run_args(fake, dir.file("new.jsonl"), dir.file("r3.jsonl")), "", env).exit_code == 0);
  CHECK(judge_calls(fake) == 3);  // both stored by the write run
}

TEST_CASE("judge cache: shards on one machine fill Redis, the same shards on another make no call",
          "[integration][cache][redis]") {
  FakeProviderServer fake;
  RedisServer redis;
  TempDir dir;
  write_file(dir.file("data.jsonl"), dataset(300));
  // Three runs, the fake and Redis on two cores (slower still under the sanitizers): Redis
  // deadlines of a second, so a slow moment is not a miss. This test is about sharing; Redis
  // trouble is tested on its own (tests/cache/shared_judge_cache_test.cpp).
  write_file(dir.file("config.json"), R"({"redis": {"timeout_ms": 1000}})");
  auto shards = [&](const std::string& cache_home, const std::string& out_prefix) {
    std::vector<std::unique_ptr<BackgroundProcess>> processes;
    for (const char* shard : {"0/3", "1/3", "2/3"}) {
      processes.push_back(std::make_unique<BackgroundProcess>(
          run_args(fake, dir.file("data.jsonl"), dir.file(out_prefix + "-{index}.jsonl"),
                   {"--shard", shard, "--redis", redis.url(), "-c", dir.file("config.json")}),
          machine(cache_home)));
    }
    for (auto& p : processes) CHECK(p->wait(60s) == 0);
  };
  shards(dir.file("machine-a"), "a");
  CHECK(judge_calls(fake) == 300);
  fake.reset_stats();
  shards(dir.file("machine-b"), "b");  // an empty local cache: everything comes from Redis
  CHECK(judge_calls(fake) == 0);
  for (int index = 0; index < 3; ++index) {
    auto part = read_lines(dir.file("b-" + std::to_string(index) + ".jsonl"));
    CHECK(part.size() == 100);
    for (const auto& line : part)
      CHECK(json::parse(line).at("criteria").at("default").at("judge").at("cached") == true);
  }
}

TEST_CASE("judge cache: four processes share one file, and kill -9 mid-run leaves it whole", "[integration][cache]") {
  FakeProviderServer fake({"--latency-ms", "5"});
  TempDir dir;
  const std::string cache_home = dir.file("cache-home");
  const auto env = machine(cache_home);

  // Four processes at once, each with its own 300 rows, on one cache file.
  std::string all;
  std::vector<std::unique_ptr<BackgroundProcess>> processes;
  for (int p = 0; p < 4; ++p) {
    std::string part;
    for (int i = p * 300; i < (p + 1) * 300; ++i) part += row(i);
    all += part;
    std::string data = dir.file("part" + std::to_string(p) + ".jsonl");
    write_file(data, part);
    processes.push_back(
        std::make_unique<BackgroundProcess>(run_args(fake, data, dir.file("out" + std::to_string(p) + ".jsonl")), env,
                                            dir.file("err" + std::to_string(p))));
  }
  for (int p = 0; p < 4; ++p) {
    CHECK(processes[p]->wait(60s) == 0);
    CHECK(llmeval::testing::read_file(dir.file("err" + std::to_string(p))).empty());  // no warning, no error
  }
  CHECK(judge_calls(fake) == 1200);
  write_file(dir.file("all.jsonl"), all);
  fake.reset_stats();
  REQUIRE(run_process(run_args(fake, dir.file("all.jsonl"), dir.file("all-out.jsonl")), "", env).exit_code == 0);
  CHECK(judge_calls(fake) == 0);  // no entry lost to the concurrent writers

  // kill -9 in the middle of a run that is writing the cache.
  FakeProviderServer slow({"--latency-ms", "20"});
  std::string big;
  for (int i = 10000; i < 13000; ++i) big += row(i);
  write_file(dir.file("big.jsonl"), big);
  BackgroundProcess victim(run_args(slow, dir.file("big.jsonl"), dir.file("killed.jsonl")), env);
  // Killed once it has judged (and cached) some rows: waiting for them rather than for a fixed
  // time keeps the test meaningful on a slow or loaded machine (under the sanitizers).
  for (auto deadline = std::chrono::steady_clock::now() + 30s; std::chrono::steady_clock::now() < deadline;) {
    if (std::filesystem::exists(dir.file("killed.jsonl")) && read_lines(dir.file("killed.jsonl")).size() > 100) break;
    std::this_thread::sleep_for(20ms);
  }
  victim.signal(SIGKILL);
  victim.wait();
  auto recorded = rows_by_id(dir.file("killed.jsonl"));
  INFO(recorded.size() << " rows recorded before the kill");
  CHECK(recorded.size() > 50);
  CHECK(recorded.size() < 3000);

  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open((cache_home + "/llmeval/judge-cache.sqlite3").c_str(), &db) == SQLITE_OK);
  std::string integrity;
  sqlite3_exec(
      db, "PRAGMA integrity_check",
      [](void* out, int, char** values, char**) {
        *static_cast<std::string*>(out) += values[0] != nullptr ? values[0] : "null";
        return 0;
      },
      &integrity, nullptr);
  sqlite3_close(db);
  CHECK(integrity == "ok");

  // The rerun calls the judge only for rows that had no verdict when the process died.
  slow.reset_stats();
  REQUIRE(run_process(run_args(slow, dir.file("big.jsonl"), dir.file("rerun.jsonl")), "", env).exit_code == 0);
  auto rerun = rows_by_id(dir.file("rerun.jsonl"));
  REQUIRE(rerun.size() == 3000);
  for (const auto& [id, r] : recorded) {
    INFO(id);
    CHECK(rerun.at(id).at("criteria").at("default").at("judge").value("cached", false));
  }
  CHECK(judge_calls(slow) <= 3000 - static_cast<int>(recorded.size()));
}

TEST_CASE("llmeval cache stats and clear show and empty this machine's cache", "[integration][cache]") {
  FakeProviderServer fake;
  TempDir dir;
  const auto env = machine(dir.file("cache-home"));
  write_file(dir.file("data.jsonl"), dataset(20));
  REQUIRE(run_process(run_args(fake, dir.file("data.jsonl"), dir.file("out.jsonl")), "", env).exit_code == 0);

  auto stats = run_process({llmeval::testing::llmeval_binary(), "cache", "stats", "--json"}, "", env);
  REQUIRE(stats.exit_code == 0);
  json s = json::parse(stats.out);
  CHECK(s.at("entries") == 20);
  CHECK(s.at("path") == dir.file("cache-home") + "/llmeval/judge-cache.sqlite3");

  auto cleared = run_process({llmeval::testing::llmeval_binary(), "cache", "clear"}, "", env);
  REQUIRE(cleared.exit_code == 0);
  CHECK(cleared.out.find("removed 20") != std::string::npos);
  fake.reset_stats();
  REQUIRE(run_process(run_args(fake, dir.file("data.jsonl"), dir.file("again.jsonl")), "", env).exit_code == 0);
  CHECK(judge_calls(fake) == 20);
}
