// Integration scenarios for shared limits and resilience (issue 3): several real `llmeval run`
// processes, a real redis-server and the real fake provider, over loopback, for a few seconds
// each. Timing figures come from the fake provider's request log, so they are what a provider
// would have seen.
#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <memory>
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
using llmeval::testing::TempDir;
using llmeval::testing::write_file;
using nlohmann::json;
using namespace std::chrono_literals;

std::string rows(int count, const std::string& tag) {
  std::string out;
  for (int i = 0; i < count; ++i) {
    out += R"({"prompt": "What is the capital of France?", "output": )" +
           json("Paris (" + tag + " " + std::to_string(i) + ")").dump() + R"(, "criteria": "Correct."})" + "\n";
  }
  return out;
}

// One `llmeval run` in the background over its own dataset and output.
class LlmevalRun {
 public:
  LlmevalRun(TempDir& dir, const std::string& name, const std::string& dataset, std::vector<std::string> args)
      : output_(dir.file(name + ".out.jsonl")) {
    std::string dataset_path = dir.file(name + ".jsonl");
    write_file(dataset_path, dataset);
    std::vector<std::string> argv = {llmeval::testing::llmeval_binary(), "run", dataset_path, "-o", output_, "-q"};
    argv.insert(argv.end(), args.begin(), args.end());
    process_ = std::make_unique<BackgroundProcess>(
        argv, std::map<std::string, std::string>{{"no_proxy", "127.0.0.1"}, {"NO_PROXY", "127.0.0.1"}});
  }
  int wait() { return process_->wait(60s); }
  std::vector<json> results() const {
    std::vector<json> out;
    for (const auto& line : read_lines(output_)) out.push_back(json::parse(line));
    return out;
  }

 private:
  std::string output_;
  std::unique_ptr<BackgroundProcess> process_;
};

// API requests in the fake's log, as (arrived_ms, status) in arrival order.
std::vector<json> api_requests(const FakeProviderServer& fake) { return fake.log().at("requests").get<std::vector<json>>(); }

int count_status(const std::vector<json>& requests, int status) {
  return static_cast<int>(std::count_if(requests.begin(), requests.end(),
                                        [&](const json& r) { return r.at("status").get<int>() == status; }));
}

void check_all_ok(LlmevalRun& run, std::size_t rows_expected) {
  auto results = run.results();
  CHECK(results.size() == rows_expected);
  for (const auto& r : results) {
    INFO(r.dump());
    CHECK(r.at("status") == "ok");
  }
}

using Runs = std::vector<std::unique_ptr<LlmevalRun>>;

// `processes` runs of `rows_each` rows (p0, p1, ...), each with `args`.
Runs start_runs(TempDir& dir, int processes, int rows_each, const std::vector<std::string>& args) {
  Runs runs;
  for (int p = 0; p < processes; ++p) {
    std::string name = "p" + std::to_string(p);
    runs.push_back(std::make_unique<LlmevalRun>(dir, name, rows(rows_each, name), args));
  }
  return runs;
}

// Waits for every run: each exits 0 with `rows_each` ok results.
void finish_all_ok(Runs& runs, std::size_t rows_each) {
  for (auto& run : runs) CHECK(run->wait() == 0);
  for (auto& run : runs) check_all_ok(*run, rows_each);
}

}  // namespace

TEST_CASE("4 processes share one rpm limit through Redis: zero 429s and at least 95% of it used",
          "[integration][redis][serial]") {
  RedisServer redis;
  // 3000 rpm is 50 requests/s, enforced by the fake like a provider account (a bucket of 1 s).
  FakeProviderServer fake({"--rpm", "3000", "--burst-s", "1", "--latency-ms", "100"});
  TempDir dir;
  // Each process offers 4 in flight / 100 ms = 40 requests/s: 160/s together, 3.2x the limit.
  Runs runs = start_runs(dir, 4, 50,
                         {"-p", "openai:judge@" + fake.base_url_openai(), "-j", "4", "--rpm", "3000",
                          "--redis", redis.url()});
  finish_all_ok(runs, 50);

  auto requests = api_requests(fake);
  CHECK(count_status(requests, 429) == 0);
  CHECK(fake.stats().value("rate_limited", -1) == 0);
  REQUIRE(count_status(requests, 200) == 200);
  // Utilisation: requests per second while the processes ran, against the limit.
  double first = requests.front().at("arrived_ms").get<double>();
  double last = requests.back().at("arrived_ms").get<double>();
  double rate = (static_cast<double>(requests.size()) - 1) / ((last - first) / 1000.0);
  INFO("measured " << rate << " requests/s against a limit of 50/s over " << (last - first) << " ms");
  CHECK(rate >= 0.95 * 50);
  CHECK(rate <= 50 * 1.05);
}

TEST_CASE("4 processes share one tpm limit through Redis: reserve, reconcile, zero 429s",
          "[integration][redis][serial]") {
  RedisServer redis;
  // About 475 tokens per request (what the fake's usage reports); llmeval reserves its estimate
  // plus max_tokens (256) and gives back the difference when the usage arrives. 600,000 tpm
  // is 10,000 tokens/s: about 21 requests/s, against 4 x 40/s offered.
  FakeProviderServer fake({"--tpm", "600000", "--burst-s", "1", "--latency-ms", "100"});
  TempDir dir;
  Runs runs = start_runs(dir, 4, 20,
                         {"-p", "openai:judge@" + fake.base_url_openai(), "-j", "4", "--tpm", "600000",
                          "--redis", redis.url()});
  finish_all_ok(runs, 20);
  auto requests = api_requests(fake);
  CHECK(count_status(requests, 429) == 0);
  CHECK(count_status(requests, 200) == 80);
  // Reconciling matters: on reservations alone (~730 tokens each) 80 requests would need
  // 5.8 s; on real usage about 3.8 s.
  double span = requests.back().at("arrived_ms").get<double>() - requests.front().at("arrived_ms").get<double>();
  INFO("80 requests over " << span << " ms");
  CHECK(span < 5000);
}

TEST_CASE("Redis stopped then killed mid-run: the run finishes on local shares, zero 429s, no row lost",
          "[integration][redis][serial]") {
  RedisServer redis;
  FakeProviderServer fake({"--rpm", "3000", "--burst-s", "1", "--latency-ms", "100"});
  TempDir dir;
  Runs runs = start_runs(dir, 4, 50,
                         {"-p", "openai:judge@" + fake.base_url_openai(), "-j", "4", "--rpm", "3000",
                          "--redis", redis.url()});
  std::this_thread::sleep_for(1500ms);  // every process has heartbeated: each knows there are 4
  redis.pause();                        // SIGSTOP: connections stay open, nothing answers
  std::this_thread::sleep_for(1000ms);
  redis.kill();                         // now refused outright
  finish_all_ok(runs, 50);
  auto requests = api_requests(fake);
  CHECK(count_status(requests, 429) == 0);
  CHECK(count_status(requests, 200) == 200);
}

TEST_CASE("A primary that fails, then hangs: every row succeeds via the fallback, the breaker keeps calls away, "
          "no attempt outlives its timeout",
          "[integration][redis]") {
  RedisServer redis;
  FakeProviderServer primary({"--latency-ms", "20"});
  FakeProviderServer backup({"--latency-ms", "20"});
  TempDir dir;
  std::string config = dir.file("config.json");
  write_file(config, json{{"breaker", {{"consecutive_failures", 5}, {"open_s", 1}, {"min_calls", 10}}}}.dump());
  constexpr int kProcesses = 2;
  constexpr int kRows = 150;
  // 6000 rpm shared: 100 requests/s between the two, so the run lasts about 3 s.
  Runs runs = start_runs(dir, kProcesses, kRows,
                         {"-c", config, "-p", "openai:judge@" + primary.base_url_openai(), "-p",
                          "openai:judge@" + backup.base_url_openai(), "-j", "4", "--rpm", "6000", "--timeout",
                          "300ms", "--redis", redis.url()});
  std::this_thread::sleep_for(800ms);
  primary.control({{"mode", "fail"}, {"status", 500}});
  double failing_from = primary.log().at("now_ms").get<double>();
  std::this_thread::sleep_for(1000ms);
  primary.control({{"mode", "hang"}});
  finish_all_ok(runs, kRows);

  auto requests = api_requests(primary);
  int after_failure = 0;
  for (const auto& r : requests) {
    if (r.at("arrived_ms").get<double>() < failing_from) continue;
    ++after_failure;
    if (r.at("client_closed").get<bool>()) {
      // A hung attempt: the client gave up on it. --timeout is 300 ms; allow 50 ms more.
      double lived = r.at("finished_ms").get<double>() - r.at("arrived_ms").get<double>();
      INFO("hung attempt lived " << lived << " ms");
      CHECK(lived <= 350);
    }
  }
  // Before the breaker opens a process sends what it has in flight (4) and the failures that
  // trip it (5 in a row); after, about one probe per open second, one at a time cluster-wide.
  INFO(after_failure << " calls reached the primary after it started failing");
  CHECK(after_failure <= kProcesses * 12);
  CHECK(after_failure >= 5);
}

TEST_CASE("A 429 with Retry-After holds every process back, not only the one told",
          "[integration][redis][serial]") {
  RedisServer redis;
  FakeProviderServer fake({"--latency-ms", "20"});
  TempDir dir;
  // 1200 rpm shared (20/s): rows keep coming for about 4 s.
  Runs runs = start_runs(dir, 4, 20,
                         {"-p", "openai:judge@" + fake.base_url_openai(), "-j", "2", "--rpm", "1200", "--redis",
                          redis.url()});
  std::this_thread::sleep_for(1000ms);
  // For 2 s every request gets a 429 whose retry-after-ms is what is left of those 2 s.
  double window_start = fake.log().at("now_ms").get<double>();  // the window opens just after this
  fake.control({{"throttle_ms", 2000}});
  finish_all_ok(runs, 20);

  auto requests = api_requests(fake);
  auto first_429 = std::find_if(requests.begin(), requests.end(),
                                [](const json& r) { return r.at("status").get<int>() == 429; });
  REQUIRE(first_429 != requests.end());
  double told_at = first_429->at("arrived_ms").get<double>();
  int early = 0;
  for (const auto& r : requests) {
    double at = r.at("arrived_ms").get<double>();
    // Requests already on their way when the first 429 went out may land in the first 50 ms.
    if (at > told_at + 50 && at < window_start + 2000) ++early;
  }
  CHECK(early == 0);
  CHECK(count_status(requests, 200) == 80);
}
