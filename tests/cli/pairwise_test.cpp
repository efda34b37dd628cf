// Pairwise criteria end to end: the real llmeval binary against the fake provider's pairwise
// judges. Each pair is judged in both orders: a judge that always prefers the answer shown first
// makes every pair position_inconsistent (a tie), one that prefers the better answer whatever
// the order gives consistent winners, and rows naming three models get a Bradley–Terry ranking.
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

// Three models whose answers the fake rates by a quality marker: m1 best, m3 worst. Every pair
// of them, each model in both positions, `rounds` times.
std::string pairs_dataset(int rounds) {
  const std::map<std::string, int> quality = {{"m1", 3}, {"m2", 2}, {"m3", 1}};
  const std::vector<std::pair<std::string, std::string>> pairs = {{"m1", "m2"}, {"m2", "m3"}, {"m1", "m3"},
                                                                  {"m2", "m1"}, {"m3", "m2"}, {"m3", "m1"}};
  std::string data;
  int id = 0;
  for (int round = 0; round < rounds; ++round) {
    for (const auto& [a, b] : pairs) {
      auto answer = [&](const std::string& model) {
        return "Answer " + std::to_string(id) + " by " + model +
               " [[fake:quality=" + std::to_string(quality.at(model)) + "]]";
      };
      data += json{{"id", id++},
                   {"prompt", "Explain item " + std::to_string(id)},
                   {"output_a", answer(a)},
                   {"output_b", answer(b)},
                   {"model_a", a},
                   {"model_b", b},
                   {"criteria",
                    json::array({json{
                        {"name", "better"}, {"type", "pairwise"}, {"rubric", "The more helpful answer is better."}}})}}
                  .dump() +
              "\n";
    }
  }
  return data;
}

struct Run {
  int exit_code = 0;
  std::vector<json> rows;
  json summary;
  std::string err;
};

Run run_pairwise(TempDir& dir, const std::string& name, const FakeProviderServer& fake,
                 std::vector<std::string> flags = {"--no-cache"}) {
  const std::string out = dir.file(name + ".jsonl");
  std::vector<std::string> argv = {llmeval::testing::llmeval_binary(),
                                   "run",
                                   dir.file("data.jsonl"),
                                   "-o",
                                   out,
                                   "-q",
                                   "--summary",
                                   out + ".summary.json"};
  argv.insert(argv.end(), flags.begin(), flags.end());
  argv.push_back("-p");
  argv.push_back("openai:gpt-4.1-mini@" + fake.base_url_openai());
  auto result = run_process(
      argv, "", {{"no_proxy", "127.0.0.1"}, {"XDG_CACHE_HOME", dir.file("cache")}, {"LLMEVAL_CACHE", "readwrite"}});
  Run run;
  run.exit_code = result.exit_code;
  run.err = result.err;
  for (const auto& line : read_lines(out)) run.rows.push_back(json::parse(line));
  run.summary = json::parse(read_file(out + ".summary.json"));
  return run;
}

}  // namespace

TEST_CASE("pairwise: a judge that always prefers the first answer shown is position-inconsistent on every pair",
          "[integration][pairwise]") {
  FakeProviderServer fake({"--pairwise", "first"});
  TempDir dir;
  write_file(dir.file("data.jsonl"), pairs_dataset(2));
  Run run = run_pairwise(dir, "out", fake);
  INFO(run.err);
  REQUIRE(run.rows.size() == 12);
  CHECK(judge_calls(fake) == 24);  // both orders of every pair
  for (const json& row : run.rows) {
    INFO(row.dump());
    REQUIRE(row.at("status") == "ok");
    const json& c = row.at("criteria").at("better");
    CHECK(c.at("winner") == "tie");
    CHECK(c.at("position_inconsistent") == true);
    CHECK(c.at("score") == 0.5);
    REQUIRE(c.at("orders").size() == 2);
    CHECK(c.at("orders")[0].at("shown_as_a") == "a");
    CHECK(c.at("orders")[0].at("winner") == "A");
    CHECK(c.at("orders")[1].at("shown_as_a") == "b");
    CHECK(c.at("orders")[1].at("winner") == "A");
    CHECK(c.at("judge").at("attempts") == 2);
  }
  const json& s = run.summary.at("pairwise").at("better");
  CHECK(s.at("pairs") == 12);
  CHECK(s.at("ties") == 12);
  CHECK(s.at("position_consistency") == 0.0);
  CHECK(s.at("position_inconsistent") == 12);
  CHECK(s.at("b_win_rate").is_null());
}

TEST_CASE("pairwise: a judge that prefers the better answer in either order gives consistent winners and a ranking",
          "[integration][pairwise]") {
  FakeProviderServer fake({"--pairwise", "better"});
  TempDir dir;
  write_file(dir.file("data.jsonl"), pairs_dataset(3));
  Run run = run_pairwise(dir, "out", fake, {});
  INFO(run.err);
  REQUIRE(run.rows.size() == 18);
  const std::map<std::string, int> quality = {{"m1", 3}, {"m2", 2}, {"m3", 1}};
  for (const json& row : run.rows) {
    INFO(row.dump());
    const json& c = row.at("criteria").at("better");
    const bool a_better = quality.at(row.at("model_a")) > quality.at(row.at("model_b"));
    CHECK(c.at("winner") == (a_better ? "a" : "b"));
    CHECK(c.at("position_inconsistent") == false);
    CHECK(c.at("pass") == !a_better);  // b passes when it is at least as good as a
    // The same answer won under both labels: A in one order, B in the other.
    CHECK(c.at("orders")[0].at("winner") != c.at("orders")[1].at("winner"));
  }
  const json& s = run.summary.at("pairwise").at("better");
  CHECK(s.at("wins_a") == 9);
  CHECK(s.at("wins_b") == 9);
  CHECK(s.at("ties") == 0);
  CHECK(s.at("b_win_rate") == 0.5);
  CHECK(s.at("position_consistency") == 1.0);
  REQUIRE(s.at("ranking").size() == 3);
  CHECK(s.at("ranking")[0].at("model") == "m1");
  CHECK(s.at("ranking")[1].at("model") == "m2");
  CHECK(s.at("ranking")[2].at("model") == "m3");
  for (const auto& r : s.at("ranking")) {
    CHECK(r.at("ci")[0].get<double>() <= r.at("strength").get<double>());
    CHECK(r.at("strength").get<double>() <= r.at("ci")[1].get<double>());
    CHECK(r.at("comparisons") == 12);
  }

  // Each order is its own judge-cache entry: a rerun makes no call, and a dry run counts two
  // calls a pair, all cached.
  fake.reset_stats();
  Run again = run_pairwise(dir, "again", fake, {});
  CHECK(judge_calls(fake) == 0);
  CHECK(again.summary.at("cache_hits") == 36);
  CHECK(again.summary.at("pairwise") == run.summary.at("pairwise"));
  auto dry = run_process(
      {llmeval::testing::llmeval_binary(), "run", dir.file("data.jsonl"), "--dry-run", "--json", "-p",
       "openai:gpt-4.1-mini@" + fake.base_url_openai()},
      "", {{"no_proxy", "127.0.0.1"}, {"XDG_CACHE_HOME", dir.file("cache")}, {"LLMEVAL_CACHE", "readwrite"}});
  REQUIRE(dry.exit_code == 0);
  json estimate = json::parse(dry.out);
  CHECK(estimate.at("judge_calls") == 36);
  CHECK(estimate.at("cached_calls") == 36);
}

TEST_CASE("pairwise: rows without both answers, and labels on a pairwise criterion, are invalid with a reason",
          "[integration][pairwise]") {
  FakeProviderServer fake;
  TempDir dir;
  const json criteria = json::array({json{{"name", "better"}, {"type", "pairwise"}, {"rubric", "Better."}}});
  write_file(dir.file("data.jsonl"), json{{"id", "no_b"}, {"output_a", "x"}, {"criteria", criteria}}.dump() + "\n" +
                                         json{{"id", "only_output"}, {"output", "x"}, {"criteria", criteria}}.dump() +
                                         "\n" +
                                         json{{"id", "label"},
                                              {"output_a", "x"},
                                              {"output_b", "y"},
                                              {"criteria", criteria},
                                              {"labels", {{"better", 1}}}}
                                             .dump() +
                                         "\n");
  Run run = run_pairwise(dir, "out", fake);
  REQUIRE(run.rows.size() == 3);
  CHECK(judge_calls(fake) == 0);
  CHECK(run.rows[0].at("error").at("kind") == "missing_field");
  CHECK(run.rows[0].at("error").at("message").get<std::string>().find("output_b") != std::string::npos);
  CHECK(run.rows[1].at("error").at("kind") == "missing_field");
  CHECK(run.rows[1].at("error").at("message").get<std::string>().find("\"output_a\" and \"output_b\"") !=
        std::string::npos);
  CHECK(run.rows[2].at("error").at("kind") == "invalid_field");
}

TEST_CASE("pairwise with a jury: each juror judges both orders, and a position-biased juror shows in consistency",
          "[integration][pairwise][jury]") {
  FakeProviderServer biased({"--pairwise", "first"}), fair({"--pairwise", "better"});
  TempDir dir;
  write_file(dir.file("data.jsonl"), pairs_dataset(1));
  const std::string out = dir.file("out.jsonl");
  auto result = run_process({llmeval::testing::llmeval_binary(), "run", dir.file("data.jsonl"), "-o", out, "-q",
                             "--no-cache", "--summary", out + ".summary.json", "--jury", "mean", "-p",
                             "openai:gpt-4.1-mini@" + biased.base_url_openai(), "-p",
                             "openai:gpt-4.1-mini@" + fair.base_url_openai()},
                            "", {{"no_proxy", "127.0.0.1"}});
  INFO(result.err);
  CHECK(judge_calls(biased) == 12);
  CHECK(judge_calls(fair) == 12);
  const std::map<std::string, int> quality = {{"m1", 3}, {"m2", 2}, {"m3", 1}};
  for (const auto& line : read_lines(out)) {
    json row = json::parse(line);
    INFO(line);
    const json& c = row.at("criteria").at("better");
    const bool a_better = quality.at(row.at("model_a")) > quality.at(row.at("model_b"));
    REQUIRE(c.at("jury").size() == 2);
    CHECK(c.at("jury")[0].at("winner") == "tie");
    CHECK(c.at("jury")[0].at("position_inconsistent") == true);
    CHECK(c.at("jury")[1].at("winner") == (a_better ? "a" : "b"));
    CHECK(c.at("jury")[1].at("position_inconsistent") == false);
    CHECK(c.at("score").get<double>() == (a_better ? 0.25 : 0.75));  // mean of b's points: 0.5 and 0 or 1
    CHECK(c.at("winner") == (a_better ? "a" : "b"));
    CHECK(c.at("position_inconsistent") == true);
    CHECK_FALSE(c.contains("orders"));
  }
  json summary = json::parse(read_file(out + ".summary.json"));
  CHECK(summary.at("pairwise").at("better").at("position_consistency") == 0.5);
}
