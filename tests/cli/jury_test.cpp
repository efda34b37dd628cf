// run --jury end to end: the real llmeval binary against several fake providers, one per juror.
// Each juror judges every LLM criterion on its own; a juror that answers garbage abstains while
// the quorum holds; a 1-1 split under majority is a tie whatever the jurors' order; jurors that
// always agree have Krippendorff's alpha 1; and human labels give the judge-label agreement.
#include <catch2/catch.hpp>

#include <cmath>
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

// Rows with one LLM criterion on `scale` and, when labels is set, a label per row.
std::string dataset(int rows, const std::string& scale, bool labels) {
  std::string data;
  for (int i = 0; i < rows; ++i) {
    json row = {{"id", i},
                {"prompt", "Question " + std::to_string(i)},
                {"output", "Answer " + std::to_string(i * 7)},
                {"criteria", json::array({json{{"name", "correct"}, {"rubric", "Correct."}, {"scale", scale}}})}};
    if (labels) row["labels"] = {{"correct", scale == "binary" ? json(i % 2 == 0) : json(1 + i % 5)}};
    data += row.dump() + "\n";
  }
  return data;
}

struct Run {
  int exit_code = 0;
  std::vector<json> rows;
  json summary;
  std::string err;
};

Run run_jury(TempDir& dir, const std::string& name, const std::vector<const FakeProviderServer*>& jurors,
             std::vector<std::string> flags) {
  const std::string out = dir.file(name + ".jsonl");
  std::vector<std::string> argv = {llmeval::testing::llmeval_binary(),
                                   "run",
                                   dir.file("data.jsonl"),
                                   "-o",
                                   out,
                                   "-q",
                                   "--no-cache",
                                   "--retries",
                                   "0",
                                   "--summary",
                                   out + ".summary.json"};
  argv.insert(argv.end(), flags.begin(), flags.end());
  for (const auto* juror : jurors) {
    argv.push_back("-p");
    argv.push_back("openai:gpt-4.1-mini@" + juror->base_url_openai());
  }
  auto result = run_process(argv, "", {{"no_proxy", "127.0.0.1"}});
  Run run;
  run.exit_code = result.exit_code;
  run.err = result.err;
  for (const auto& line : read_lines(out)) run.rows.push_back(json::parse(line));
  run.summary = json::parse(read_file(out + ".summary.json"));
  return run;
}

}  // namespace

TEST_CASE("jury: a juror answering garbage abstains, the quorum holds, and each juror is called",
          "[integration][jury]") {
  FakeProviderServer first, second, garbage({"--verdict", "garbage"});
  TempDir dir;
  write_file(dir.file("data.jsonl"), dataset(20, "1-5", true));
  Run run = run_jury(dir, "out", {&first, &second, &garbage}, {"--jury", "mean"});
  INFO(run.err);
  REQUIRE(run.exit_code <= 1);  // 1: some rows failed their criteria (pass rate), never an error
  REQUIRE(run.rows.size() == 20);
  std::int64_t exact = 0;
  for (const json& row : run.rows) {
    INFO(row.dump());
    REQUIRE(row.at("status") == "ok");
    const json& c = row.at("criteria").at("correct");
    REQUIRE(c.at("jury").size() == 3);
    const json& a = c.at("jury")[0];
    const json& b = c.at("jury")[1];
    const json& g = c.at("jury")[2];
    CHECK(a.at("provider") == "openai");
    CHECK(b.at("provider") == "openai-2");
    CHECK(a.at("status") == "ok");
    CHECK(b.at("status") == "ok");
    // The fake's score is a hash of the judged text: two fakes give the same one.
    CHECK(a.at("score") == b.at("score"));
    CHECK(g.at("provider") == "openai-3");
    CHECK(g.at("status") == "judge_unparseable");
    CHECK(g.at("score").is_null());
    // An abstaining juror's calls (the garbage reply and its repair) still count, and a juror
    // is never a fallback.
    CHECK(g.at("judge").at("attempts") == 2);
    CHECK(g.at("judge").at("tokens").at("input").get<int>() > 0);
    CHECK(b.at("judge").at("fallback") == false);
    CHECK(c.at("score").get<double>() == Approx((a.at("score").get<double>() + b.at("score").get<double>()) / 2));
    CHECK_FALSE(c.contains("judge"));
    CHECK(c.at("label").is_number());
    CHECK(c.at("scale") == "1-5");
    if (c.at("label") == c.at("score")) ++exact;
  }
  // Every juror judged every row; the garbage one also got its repair turn.
  CHECK(judge_calls(first) == 20);
  CHECK(judge_calls(second) == 20);
  CHECK(judge_calls(garbage) == 40);
  CHECK(run.summary.at("provider_requests") == 80);
  CHECK(run.summary.at("fallbacks") == 0);

  const json& agreement = run.summary.at("agreement").at("correct");
  CHECK(agreement.at("n") == 20);
  CHECK(agreement.at("exact").get<double>() == Approx(static_cast<double>(exact) / 20));
  CHECK(agreement.at("kappa_weights") == "quadratic");
  CHECK(agreement.at("confusion").at("counts").size() == 5);

  const json& jury = run.summary.at("jury_agreement").at("correct");
  CHECK(jury.at("jurors") == json::array({"openai", "openai-2", "openai-3"}));
  CHECK(jury.at("alpha").get<double>() == Approx(1.0));  // the two that answered always agree
  CHECK(jury.at("alpha_metric") == "interval");
  REQUIRE(jury.at("pairs").size() == 1);  // only openai/openai-2 ever answered together
  CHECK(jury.at("pairs")[0].at("kappa").get<double>() == Approx(1.0));
  std::int64_t counted = 0;
  for (const auto& n : jury.at("distribution").at("openai")) counted += n.get<std::int64_t>();
  CHECK(counted == 20);
}

TEST_CASE("jury: fewer answers than the quorum make the row a no_quorum error", "[integration][jury]") {
  FakeProviderServer good, garbage1({"--verdict", "garbage"}), garbage2({"--verdict", "garbage"});
  TempDir dir;
  write_file(dir.file("data.jsonl"), dataset(4, "1-5", false));
  Run run = run_jury(dir, "out", {&good, &garbage1, &garbage2}, {"--jury", "median"});
  CHECK(run.exit_code == 1);
  REQUIRE(run.rows.size() == 4);
  for (const json& row : run.rows) {
    INFO(row.dump());
    CHECK(row.at("status") == "error");
    CHECK(row.at("error").at("kind") == "no_quorum");
    CHECK(row.at("error").at("message").get<std::string>().find("1 of 3 jurors answered") != std::string::npos);
  }
  // A quorum of one lets the one good juror decide.
  Run one = run_jury(dir, "one", {&good, &garbage1, &garbage2}, {"--jury", "median", "--jury-quorum", "1"});
  for (const json& row : one.rows) CHECK(row.at("status") == "ok");
}

TEST_CASE("jury: a 1-1 split under majority is a tie that fails, whatever the jurors' order", "[integration][jury]") {
  FakeProviderServer passes({"--fixed-score", "5"}), fails({"--fixed-score", "1"});
  TempDir dir;
  write_file(dir.file("data.jsonl"), dataset(6, "1-5", false));
  for (const auto& order : {std::vector<const FakeProviderServer*>{&passes, &fails},
                            std::vector<const FakeProviderServer*>{&fails, &passes}}) {
    Run run = run_jury(dir, order[0] == &passes ? "pass_first" : "fail_first", order, {"--jury", "majority"});
    REQUIRE(run.rows.size() == 6);
    for (const json& row : run.rows) {
      INFO(row.dump());
      const json& c = row.at("criteria").at("correct");
      CHECK(row.at("status") == "ok");
      CHECK(c.at("tie") == true);
      CHECK(c.at("pass") == false);
      CHECK(c.at("score").get<double>() == Approx(3.0));  // the jurors' mean, for information
    }
    CHECK(run.summary.at("passed") == 0);
  }
}

TEST_CASE("jury: two jurors that always agree on a binary criterion have alpha 1 and kappa 1", "[integration][jury]") {
  FakeProviderServer first, second;
  TempDir dir;
  write_file(dir.file("data.jsonl"), dataset(30, "binary", true));
  Run run = run_jury(dir, "out", {&first, &second}, {"--jury", "majority"});
  REQUIRE(run.rows.size() == 30);
  const json& jury = run.summary.at("jury_agreement").at("correct");
  CHECK(jury.at("alpha_metric") == "nominal");
  CHECK(jury.at("units") == 30);
  CHECK(jury.at("alpha").get<double>() == Approx(1.0));
  CHECK(jury.at("pairs")[0].at("kappa").get<double>() == Approx(1.0));
  CHECK(run.summary.at("agreement").at("correct").at("kappa_weights") == "none");
  CHECK(run.summary.at("agreement").at("correct").at("within_one").is_null());
}

TEST_CASE("jury: --dry-run counts one call per juror", "[integration][jury]") {
  FakeProviderServer first, second, third;
  TempDir dir;
  write_file(dir.file("data.jsonl"), dataset(5, "1-5", false));
  auto result = run_process({llmeval::testing::llmeval_binary(), "run", dir.file("data.jsonl"), "--dry-run", "--json",
                             "--no-cache", "--jury", "mean", "-p", "openai:gpt-4.1-mini@" + first.base_url_openai(),
                             "-p", "openai:gpt-4.1-mini@" + second.base_url_openai(), "-p",
                             "openai:gpt-4.1-mini@" + third.base_url_openai()},
                            "", {{"no_proxy", "127.0.0.1"}});
  INFO(result.err);
  REQUIRE(result.exit_code == 0);
  json estimate = json::parse(result.out);
  CHECK(estimate.at("judge_calls") == 15);
  REQUIRE(estimate.at("providers").size() == 3);
  for (const auto& p : estimate.at("providers")) CHECK(p.at("calls") == 5);
  CHECK(judge_calls(first) + judge_calls(second) + judge_calls(third) == 0);
}
