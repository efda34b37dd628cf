// run --repeat end to end: the real llmeval binary against the fake provider, with a judge
// cache of the test's own. Each LLM criterion is judged N times, each sample is recorded and
// cached on its own, and a sample that fails leaves the criterion to the ones that did not.
#include <catch2/catch.hpp>

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
using llmeval::testing::read_lines;
using llmeval::testing::run_process;
using llmeval::testing::TempDir;
using llmeval::testing::write_file;
using nlohmann::json;

int judge_calls(const FakeProviderServer& fake) { return fake.stats().at("by_path").value("/v1/chat/completions", 0); }

}  // namespace

TEST_CASE("repeat: --repeat 3 makes 3 calls per LLM criterion, records the samples, and a rerun makes none",
          "[integration][repeat]") {
  FakeProviderServer fake;
  TempDir dir;
  std::string data;
  for (int i = 0; i < 20; ++i) {
    data += json{{"id", i},
                 {"prompt", "What is " + std::to_string(i) + " + 1?"},
                 {"output", std::to_string(i + 1)},
                 {"criteria", json::array({json{{"name", "correct"}, {"rubric", "The answer is correct."}},
                                           json{{"name", "short"}, {"type", "max_chars"}, {"value", 10}}})}}
                .dump() +
            "\n";
  }
  write_file(dir.file("data.jsonl"), data);
  const std::map<std::string, std::string> env = {
      {"XDG_CACHE_HOME", dir.file("cache")}, {"LLMEVAL_CACHE", "readwrite"}, {"no_proxy", "127.0.0.1"}};
  auto run = [&](const std::string& out, std::vector<std::string> extra = {}) {
    std::vector<std::string> argv = {llmeval::testing::llmeval_binary(),
                                     "run",
                                     dir.file("data.jsonl"),
                                     "-o",
                                     out,
                                     "-q",
                                     "--repeat",
                                     "3",
                                     "--summary",
                                     out + ".summary.json",
                                     "-p",
                                     "openai:gpt-4.1-mini@" + fake.base_url_openai()};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return run_process(argv, "", env);
  };

  REQUIRE(run(dir.file("out.jsonl")).exit_code == 0);
  CHECK(judge_calls(fake) == 60);  // 20 rows x 1 LLM criterion x 3; the deterministic one is not repeated
  for (const auto& line : read_lines(dir.file("out.jsonl"))) {
    json row = json::parse(line);
    INFO(line);
    const json& correct = row.at("criteria").at("correct");
    REQUIRE(correct.at("samples").size() == 3);
    double sum = 0;
    for (const auto& sample : correct.at("samples")) {
      sum += sample.at("score").get<double>();
      CHECK(sample.at("judge").at("attempts") == 1);
      CHECK(sample.at("reason").is_string());
    }
    CHECK(correct.at("score").get<double>() == Approx(sum / 3));
    CHECK(correct.at("pass") == (correct.at("score").get<double>() >= 4));
    CHECK(correct.at("stddev").get<double>() >= 0);
    CHECK(correct.at("judge").at("attempts") == 3);
    CHECK_FALSE(row.at("criteria").at("short").contains("samples"));
  }
  json summary = json::parse(read_file(dir.file("out.jsonl.summary.json")));
  CHECK(summary.at("provider_requests") == 60);

  // A rerun: every sample is its own cache entry.
  fake.reset_stats();
  REQUIRE(run(dir.file("again.jsonl")).exit_code == 0);
  CHECK(judge_calls(fake) == 0);
  CHECK(json::parse(read_file(dir.file("again.jsonl.summary.json"))).at("cache_hits") == 60);
  // Resuming a finished file reads every sample back and judges nothing.
  fake.reset_stats();
  REQUIRE(run(dir.file("out.jsonl"), {"--resume", "--no-cache"}).exit_code == 0);
  CHECK(judge_calls(fake) == 0);
  CHECK(read_lines(dir.file("out.jsonl")).size() == 20);
}

TEST_CASE("repeat: a sample that fails leaves the criterion to the others, and all failing is an error",
          "[integration][repeat]") {
  FakeProviderServer fake;
  TempDir dir;
  // fail_first counts by message: the first of the three samples to arrive fails (no retries).
  write_file(
      dir.file("data.jsonl"),
      json{{"id", "one"}, {"prompt", "p [[fake:fail_first=1]]"}, {"output", "o"}, {"criteria", "c"}}.dump() + "\n" +
          json{{"id", "all"}, {"prompt", "p [[fake:status=500]]"}, {"output", "o"}, {"criteria", "c"}}.dump() + "\n");
  auto run = run_process({llmeval::testing::llmeval_binary(), "run", dir.file("data.jsonl"), "-o",
                          dir.file("out.jsonl"), "-q", "--repeat", "3", "--retries", "0", "-p",
                          "openai:gpt-4.1-mini@" + fake.base_url_openai()},
                         "", {{"no_proxy", "127.0.0.1"}});
  CHECK(run.exit_code == 1);  // the row whose samples all failed
  std::map<std::string, json> rows;
  for (const auto& line : read_lines(dir.file("out.jsonl"))) {
    json row = json::parse(line);
    rows[row.at("id").get<std::string>()] = row;
  }
  REQUIRE(rows.size() == 2);
  CHECK(rows["one"].at("status") == "ok");
  CHECK(rows["one"].at("criteria").at("default").at("samples").size() == 2);
  CHECK(rows["one"].at("criteria").at("default").at("samples_failed") == 1);
  CHECK(rows["all"].at("status") == "error");
  CHECK(rows["all"].at("criteria").empty());
  CHECK(rows["all"].at("error").at("kind") == "provider_error");
}
