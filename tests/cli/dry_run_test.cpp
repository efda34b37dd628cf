// run --dry-run end to end: the real llmeval binary against the fake provider, with a judge
// cache of the test's own. A dry run sends nothing, counts the calls a run makes, and its cost
// is within 10% of what the run then costs.
#include <catch2/catch.hpp>

#include <cmath>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/support/build_paths.h"
#include "tests/support/fake_provider.h"
#include "tests/support/files.h"
#include "tests/support/process.h"

namespace {

using llmeval::testing::FakeProviderServer;
using llmeval::testing::read_file;
using llmeval::testing::run_process;
using llmeval::testing::TempDir;
using llmeval::testing::write_file;
using nlohmann::json;

// Rows of varied length; every third has a second LLM criterion and a deterministic one.
std::string dataset(int rows) {
  std::string text;
  for (int i = 0; i < rows; ++i) {
    std::string prompt = "Question " + std::to_string(i) + ": explain why the sky looks blue";
    for (int k = 0; k < i % 7; ++k) prompt += ", and say it again in other words";
    json criteria = i % 3 == 0 ? json{{"correct", "The answer is correct."},
                                      {"concise", "The answer is short and to the point."}}
                               : json("The answer is correct.");
    json row = {{"id", "r" + std::to_string(i)},
                {"prompt", prompt + "?"},
                {"output", "Rayleigh scattering: shorter wavelengths scatter more (" + std::to_string(i) + ")."}};
    row["criteria"] = criteria;
    if (i % 3 == 0) {
      row["criteria"] = json::array({json{{"name", "correct"}, {"rubric", "The answer is correct."}},
                                     json{{"name", "concise"}, {"rubric", "The answer is short and to the point."}},
                                     json{{"name", "mentions_rayleigh"}, {"type", "contains"}, {"value", "Rayleigh"}}});
    }
    text += row.dump() + "\n";
  }
  return text;
}

int judge_calls(const FakeProviderServer& fake) { return fake.stats().at("by_path").value("/v1/chat/completions", 0); }

}  // namespace

TEST_CASE("dry run: no call, the same call count as the run, its cost within 10% of the run's",
          "[integration][dry-run]") {
  FakeProviderServer fake;
  TempDir dir;
  write_file(dir.file("data.jsonl"), dataset(600));
  write_file(dir.file("pilot.jsonl"), dataset(60));
  const std::map<std::string, std::string> env = {
      {"XDG_CACHE_HOME", dir.file("cache")}, {"LLMEVAL_CACHE", "readwrite"}, {"no_proxy", "127.0.0.1"}};
  auto llmeval = [&](std::vector<std::string> args) {
    std::vector<std::string> argv = {llmeval::testing::llmeval_binary(), "run"};
    argv.insert(argv.end(), args.begin(), args.end());
    argv.insert(argv.end(), {"-p", "openai:gpt-4.1-mini@" + fake.base_url_openai()});
    return run_process(argv, "", env);
  };

  // Without history: nothing sent, every call counted, no results file written.
  auto first = llmeval({dir.file("data.jsonl"), "-o", dir.file("never.jsonl"), "--dry-run", "--json"});
  REQUIRE(first.exit_code == 0);
  CHECK(fake.stats().at("requests") == 0);
  CHECK_FALSE(std::filesystem::exists(dir.file("never.jsonl")));
  json estimate = json::parse(first.out);
  CHECK(estimate.at("rows") == 600);
  CHECK(estimate.at("judge_calls") == 800);  // 600 rows, every third with a second LLM criterion
  CHECK(estimate.at("cached_calls") == 0);
  CHECK(estimate.at("providers")[0].at("price_source").get<std::string>().rfind("table ", 0) == 0);

  // A pilot of the first rows fills the cache; the dry run then counts them as cached and takes
  // the output tokens of their verdicts as the judge's habit.
  REQUIRE(llmeval({dir.file("pilot.jsonl"), "-o", dir.file("pilot-out.jsonl"), "-q"}).exit_code == 0);
  const int pilot_calls = judge_calls(fake);
  CHECK(pilot_calls == 80);
  fake.reset_stats();
  auto second = llmeval({dir.file("data.jsonl"), "--dry-run", "--json"});
  REQUIRE(second.exit_code == 0);
  CHECK(fake.stats().at("requests") == 0);
  estimate = json::parse(second.out);
  CHECK(estimate.at("cached_calls") == pilot_calls);
  CHECK(estimate.at("providers")[0].at("output_tokens_basis") == "mean of 80 cached verdicts");

  // The run: exactly the calls the dry run counted, at about the cost it said.
  auto run = llmeval(
      {dir.file("data.jsonl"), "-o", dir.file("out.jsonl"), "-q", "--summary", dir.file("summary.json")});
  REQUIRE(run.exit_code == 0);
  CHECK(judge_calls(fake) == estimate.at("calls_to_make").get<int>());
  json summary = json::parse(read_file(dir.file("summary.json")));
  const double real = summary.at("cost").get<double>(), estimated = estimate.at("cost").get<double>();
  INFO("estimated $" << estimated << ", real $" << real);
  CHECK(std::abs(estimated / real - 1) <= 0.10);
  CHECK(summary.at("cache_hits") == pilot_calls);
}

TEST_CASE("dry run: invalid rows exit 1 and are counted, the table names the price date, and --json needs it",
          "[integration][dry-run]") {
  FakeProviderServer fake;
  TempDir dir;
  write_file(dir.file("data.jsonl"), dataset(3) + "{\"prompt\": \"no output\"}\n");
  std::vector<std::string> argv = {llmeval::testing::llmeval_binary(),
                                   "run",
                                   dir.file("data.jsonl"),
                                   "--dry-run",
                                   "-p",
                                   "openai:gpt-4.1-mini@" + fake.base_url_openai()};
  auto table = run_process(argv, "", {{"no_proxy", "127.0.0.1"}});
  CHECK(table.exit_code == 1);
  CHECK(table.out.find("rows               4  (invalid 1") != std::string::npos);
  CHECK(table.out.find("judge calls        4  (cached 0, to make 4)") != std::string::npos);
  CHECK(table.out.find("unless set in the config") != std::string::npos);
  CHECK(fake.stats().at("requests") == 0);

  auto json_alone = run_process({llmeval::testing::llmeval_binary(), "run", dir.file("data.jsonl"), "--json", "-p",
                                 "openai:gpt-4.1-mini@" + fake.base_url_openai()},
                                "", {{"no_proxy", "127.0.0.1"}});
  CHECK(json_alone.exit_code == 2);
  CHECK(json_alone.err.find("--json only goes with --dry-run") != std::string::npos);
}
