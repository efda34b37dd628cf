// --max-cost end to end: the real llmeval binary against the fake provider (whose /stats sum
// the usage its replies reported: what an account would be billed), with the shared budget in
// a real redis-server. Prices are the built-in table's for gpt-4.1-mini.
#include <catch2/catch.hpp>

#include <chrono>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/provider/price_table.h"
#include "tests/support/build_paths.h"
#include "tests/support/fake_provider.h"
#include "tests/support/files.h"
#include "tests/support/process.h"
#include "tests/support/redis_server.h"

namespace {

using llmeval::testing::BackgroundProcess;
using llmeval::testing::FakeProviderServer;
using llmeval::testing::read_file;
using llmeval::testing::read_lines;
using llmeval::testing::RedisServer;
using llmeval::testing::run_process;
using llmeval::testing::TempDir;
using llmeval::testing::write_file;
using nlohmann::json;
using namespace std::chrono_literals;

constexpr const char* kModel = "gpt-4.1-mini";

// Rows of a few hundred characters, like a short question and answer.
std::string dataset(int rows) {
  std::string text;
  for (int i = 0; i < rows; ++i) {
    text += json{{"id", "q" + std::to_string(i)},
                 {"prompt", "Summarise the following note in one sentence: the meeting number " + std::to_string(i) +
                                " moved the release to Thursday because the load tests found a slow query."},
                 {"output", "Release " + std::to_string(i) + " moved to Thursday after load tests found a slow query."},
                 {"criteria", "The summary is faithful and complete."}}
                .dump() +
            "\n";
  }
  return text;
}

// Dollars the fake's replies reported, at the table's price (no prompt caching at this size).
double billed(const FakeProviderServer& fake) {
  json usage = fake.stats().at("usage");
  auto price = llmeval::provider::table_price(kModel)->price;
  return (usage.at("prompt_tokens").get<double>() * price.input_per_mtok +
          usage.at("completion_tokens").get<double>() * price.output_per_mtok) /
         1e6;
}

std::vector<std::string> run_args(const FakeProviderServer& fake, const std::string& data, const std::string& out,
                                  std::vector<std::string> extra) {
  std::vector<std::string> argv = {llmeval::testing::llmeval_binary(),
                                   "run",
                                   data,
                                   "-o",
                                   out,
                                   "-q",
                                   "-j",
                                   "8",
                                   "-p",
                                   std::string("openai:") + kModel + "@" + fake.base_url_openai()};
  argv.insert(argv.end(), extra.begin(), extra.end());
  return argv;
}

const std::map<std::string, std::string> kEnv = {{"no_proxy", "127.0.0.1"}};

}  // namespace

TEST_CASE("budget (--max-cost): three shards share one budget in Redis, stop with exit 3, and --resume finishes",
          "[integration][budget][redis]") {
  FakeProviderServer fake({"--latency-ms", "20"});
  RedisServer redis;
  TempDir dir;
  write_file(dir.file("data.jsonl"), dataset(600));
  write_file(dir.file("config.json"), R"({"redis": {"timeout_ms": 1000}})");
  constexpr double kBudget = 0.03;  // about a third of what the 600 rows cost

  std::vector<std::unique_ptr<BackgroundProcess>> shards;
  for (const char* shard : {"0/3", "1/3", "2/3"}) {
    shards.push_back(std::make_unique<BackgroundProcess>(
        run_args(fake, dir.file("data.jsonl"), dir.file("out-{index}.jsonl"),
                 {"--shard", shard, "--redis", redis.url(), "-c", dir.file("config.json"), "--max-cost",
                  std::to_string(kBudget), "--summary", dir.file("summary-{index}.json")}),
        kEnv));
  }
  for (auto& p : shards) CHECK(p->wait(60s) == 3);

  // Reservations hold each call's worst case until its reply, so what was billed stays within
  // the budget; and the stop came near it, not at the start.
  const double spent = billed(fake);
  CHECK(spent <= kBudget + 1e-9);
  CHECK(spent > kBudget / 2);
  double spent_here = 0;
  std::size_t recorded = 0;
  std::set<std::string> keys;
  for (int i = 0; i < 3; ++i) {
    json summary = json::parse(read_file(dir.file("summary-" + std::to_string(i) + ".json")));
    INFO(summary.dump());
    const json& budget = summary.at("budget");
    CHECK(budget.at("stopped") == true);
    CHECK(budget.at("limit") == Approx(kBudget));
    CHECK(budget.at("spent") <= kBudget + 1e-9);
    spent_here += budget.at("spent_here").get<double>();
    keys.insert(budget.at("key").get<std::string>());
    // What this shard did not record is what it says is left.
    auto lines = read_lines(dir.file("out-" + std::to_string(i) + ".jsonl"));
    recorded += lines.size();
    CHECK(budget.at("rows_left") == 200 - static_cast<int>(lines.size()));
    CHECK(summary.at("cost") == Approx(budget.at("spent_here").get<double>()));
  }
  CHECK(spent_here == Approx(spent).epsilon(1e-6));
  REQUIRE(keys.size() == 1);  // the -o path without its shard part names one budget
  CHECK(keys.begin()->find("out-{index}.jsonl") != std::string::npos);
  CHECK(recorded < 600);

  // A higher budget: each shard finishes its rows, judging only those not recorded.
  fake.reset_stats();
  for (const char* shard : {"0/3", "1/3", "2/3"}) {
    auto resumed = run_process(run_args(fake, dir.file("data.jsonl"), dir.file("out-{index}.jsonl"),
                                        {"--shard", shard, "--redis", redis.url(), "--max-cost", "1", "--resume"}),
                               "", kEnv);
    CHECK(resumed.exit_code == 0);
  }
  CHECK(fake.stats().at("by_path").value("/v1/chat/completions", 0) == static_cast<int>(600 - recorded));
  std::set<std::string> ids;
  for (int i = 0; i < 3; ++i) {
    for (const auto& line : read_lines(dir.file("out-" + std::to_string(i) + ".jsonl"))) {
      CHECK(json::parse(line).at("status") == "ok");
      ids.insert(json::parse(line).at("id").get<std::string>());
    }
  }
  CHECK(ids.size() == 600);
}

TEST_CASE("budget (--max-cost): in one process, spend stays within it, and a model without a price is a usage error",
          "[integration][budget]") {
  FakeProviderServer fake;
  TempDir dir;
  write_file(dir.file("data.jsonl"), dataset(300));

  auto stopped = run_process(run_args(fake, dir.file("data.jsonl"), dir.file("out.jsonl"),
                                      {"--max-cost", "0.01", "--summary", dir.file("summary.json")}),
                             "", kEnv);
  CHECK(stopped.exit_code == 3);
  CHECK(billed(fake) <= 0.01 + 1e-9);
  json budget = json::parse(read_file(dir.file("summary.json"))).at("budget");
  CHECK(budget.at("stopped") == true);
  CHECK_FALSE(budget.contains("key"));  // this process's own budget
  CHECK(budget.at("rows_left") == 300 - static_cast<int>(read_lines(dir.file("out.jsonl")).size()));

  fake.reset_stats();
  std::vector<std::string> unpriced = {llmeval::testing::llmeval_binary(),
                                       "run",
                                       dir.file("data.jsonl"),
                                       "-o",
                                       dir.file("other.jsonl"),
                                       "--max-cost",
                                       "1",
                                       "-p",
                                       "openai:my-finetune@" + fake.base_url_openai()};
  auto refused = run_process(unpriced, "", kEnv);
  CHECK(refused.exit_code == 2);
  CHECK(refused.err.find("my-finetune") != std::string::npos);
  CHECK(refused.err.find("\"price\"") != std::string::npos);
  CHECK(fake.stats().at("requests") == 0);
}

TEST_CASE("cost: a model without a price makes the cost unknown, never $0", "[integration][budget]") {
  FakeProviderServer fake;
  TempDir dir;
  write_file(dir.file("data.jsonl"), dataset(5));
  auto run = run_process({llmeval::testing::llmeval_binary(), "run", dir.file("data.jsonl"), "-o",
                          dir.file("out.jsonl"), "--summary", dir.file("summary.json"), "-p",
                          "openai:my-finetune@" + fake.base_url_openai()},
                         "", kEnv);
  CHECK(run.exit_code == 0);
  json summary = json::parse(read_file(dir.file("summary.json")));
  CHECK(summary.at("cost").is_null());
  CHECK(summary.at("unpriced_providers") == json::array({"openai"}));
  CHECK(run.err.find("cost               unknown (no price for openai") != std::string::npos);
}
