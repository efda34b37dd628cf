// `llmeval report` writing the HTML report: the real binary over a sim run of the sample dataset
// and over broken inputs. (The page itself is checked in tests/report/.)
#include <catch2/catch.hpp>

#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/support/build_paths.h"
#include "tests/support/files.h"
#include "tests/support/process.h"
#include "tests/support/report_data.h"

namespace {

using llmeval::testing::ProcessResult;
using llmeval::testing::read_file;
using llmeval::testing::run_process;
using llmeval::testing::TempDir;
using llmeval::testing::write_file;

const std::string kSample = std::string(llmeval::testing::source_dir()) + "/datasets/sample.jsonl";

ProcessResult run_llmeval(std::vector<std::string> args) {
  args.insert(args.begin(), llmeval::testing::llmeval_binary());
  return run_process(args, "", {}, std::chrono::seconds(120));
}

}  // namespace

TEST_CASE("report writes an HTML page with every row of a run and its prompts", "[cli][report]") {
  TempDir dir;
  const std::string results = dir.file("results.jsonl"), html = dir.file("report.html");
  auto run = run_llmeval({"run", kSample, "-p", "sim", "-o", results, "-q"});
  REQUIRE(run.exit_code == 0);

  auto report = run_llmeval({"report", results, "--dataset", kSample, "-o", html});
  INFO(report.err);
  REQUIRE(report.exit_code == 0);
  CHECK(report.out.empty());
  const std::string page = read_file(html);
  CHECK(page.rfind("<!doctype html>", 0) == 0);
  CHECK(page.find("simulated judge") != std::string::npos);
  const auto data = llmeval::testing::report_data(page);
  const auto lines = llmeval::testing::read_lines(results);
  REQUIRE(data["rows"].size() == lines.size());
  for (const auto& row : data["rows"]) {
    INFO(row.dump());
    CHECK(row.contains("pr"));
    CHECK(row.contains("o"));
  }
  CHECK_FALSE(std::filesystem::exists(html + ".tmp"));
}

TEST_CASE("report writes HTML to stdout without -o", "[cli][report]") {
  auto report = run_llmeval(
      {"report", std::string(llmeval::testing::source_dir()) + "/tests/data/golden/results.jsonl"});
  REQUIRE(report.exit_code == 0);
  CHECK(report.out.rfind("<!doctype html>", 0) == 0);
}

TEST_CASE("report refuses a torn results file and leaves no half-written page", "[cli][report]") {
  TempDir dir;
  const std::string results = dir.file("results.jsonl"), html = dir.file("report.html");
  write_file(results, read_file(std::string(llmeval::testing::source_dir()) + "/tests/data/golden/results.jsonl") +
                          R"({"id":"torn","line":7,"sta)");
  write_file(html, "the previous report");
  auto report = run_llmeval({"report", results, "-o", html});
  CHECK(report.exit_code == 2);
  CHECK(report.err.find("results.jsonl:7: not a result row") != std::string::npos);
  CHECK(read_file(html) == "the previous report");
  CHECK_FALSE(std::filesystem::exists(html + ".tmp"));
}

TEST_CASE("report's HTML options are refused with --format", "[cli][report]") {
  const std::string golden = std::string(llmeval::testing::source_dir()) + "/tests/data/golden/results.jsonl";
  auto report = run_llmeval({"report", golden, "--format", "csv", "--compare", golden});
  CHECK(report.exit_code == 2);
  CHECK(report.err.find("--dataset and --compare are for the HTML report") != std::string::npos);
  auto missing = run_llmeval({"report", golden, "--compare", "/nonexistent/baseline.jsonl"});
  CHECK(missing.exit_code == 2);
  auto help = run_llmeval({"report", "--help"});
  CHECK(help.exit_code == 0);
  CHECK(help.out.find("--compare") != std::string::npos);
  CHECK(help.out.find("--dataset") != std::string::npos);
}

// A results row with a field of the wrong type stops report (and its conversions, and a
// baseline read by --compare) with the file, the line and the field, instead of the JSON
// library's "[json.exception.type_error.302] type must be number, but is null".
TEST_CASE("report names the line and the field of a results row with a wrong type", "[cli][report]") {
  TempDir dir;
  const std::string golden = read_file(std::string(llmeval::testing::source_dir()) +
                                       "/tests/data/golden/results.jsonl");
  const std::string results = dir.file("results.jsonl"), html = dir.file("report.html");
  // Line 7: an ok row whose criterion has "score": null.
  write_file(results, golden + R"({"id":"q9","line":9,"status":"ok","pass":true,"score":1,"criteria":{"correctness":)"
                               R"({"score":null,"normalized":1,"pass":true,"reason":"r"}},"metadata":{},"error":null})"
                               "\n");
  const std::string expected = results +
                               R"(:7: not a result row: field "criteria.correctness.score" must be a number, got null)";
  write_file(html, "the previous report");
  for (const std::vector<std::string>& args : {std::vector<std::string>{"report", results, "-o", html},
                                               {"report", results, "--format", "csv", "-o", dir.file("r.csv")},
                                               {"report", results, "--format", "junit"}}) {
    auto report = run_llmeval(args);
    INFO(args[2] << " " << report.err);
    CHECK(report.exit_code == 2);
    CHECK(report.err == "llmeval: error: " + expected + "\n");
    CHECK(report.err.find("json.exception") == std::string::npos);
  }
  CHECK(read_file(html) == "the previous report");
  CHECK_FALSE(std::filesystem::exists(html + ".tmp"));

  SECTION("a status that is not a string, in the baseline of --compare") {
    const std::string baseline = dir.file("baseline.jsonl");
    write_file(baseline, R"({"id":"q1","line":1,"status":5,"criteria":{}})"
                         "\n");
    auto report = run_llmeval({"report",
                               std::string(llmeval::testing::source_dir()) + "/tests/data/golden/results.jsonl",
                               "--compare", baseline, "-o", html});
    CHECK(report.exit_code == 2);
    CHECK(report.err == "llmeval: error: " + baseline +
                            R"(:1: not a result row: field "status" must be "ok", "error" or "invalid", got 5)"
                            "\n");
  }
}

TEST_CASE("report shows the cost, the judge cache's savings and, with --summary, the budget", "[cli][report][budget]") {
  TempDir dir;
  // Two rows judged by gpt-4.1-mini (priced by the built-in table), the second from the cache.
  auto row = [](int line, bool cached) {
    nlohmann::json judge = {{"provider", "openai"},
                            {"model", "gpt-4.1-mini-2025-04-14"},
                            {"attempts", 1},
                            {"latency_ms", 40},
                            {"tokens", {{"input", 1'000'000}, {"output", 0}}}};
    if (cached) judge["cached"] = true;
    return nlohmann::json{
        {"id", line},
        {"line", line},
        {"status", "ok"},
        {"score", 1.0},
        {"pass", true},
        {"criteria",
         {{"default", {{"score", 5}, {"normalized", 1.0}, {"pass", true}, {"reason", "ok"}, {"judge", judge}}}}}}
        .dump();
  };
  write_file(dir.file("results.jsonl"), row(1, false) + "\n" + row(2, true) + "\n");
  write_file(dir.file("summary.json"),
             R"({"budget": {"limit": 1.0, "spent": 0.4, "spent_here": 0.4, "stopped": true, "rows_left": 7}})");

  auto report = run_llmeval({"report", dir.file("results.jsonl"), "--summary", dir.file("summary.json")});
  INFO(report.err);
  REQUIRE(report.exit_code == 0);
  // One million input tokens at the table's $0.40 per million, and the same again not spent.
  CHECK(report.out.find("<div class=\"label\">Cost</div><div class=\"value\">$0.4000</div>") != std::string::npos);
  CHECK(report.out.find("1 verdicts from the judge cache · $0.4000 saved") != std::string::npos);
  CHECK(report.out.find("<div class=\"label\">Budget</div><div class=\"value\">$0.4000 spent</div>") !=
        std::string::npos);
  CHECK(report.out.find("of $1.0000 · stopped, 7 rows left") != std::string::npos);
  // Both rows pass: the Wilson interval of 2 of 2 at 95% is [34.2, 100] (statsmodels
  // proportion_confint(2, 2, method="wilson") = (0.3423802, 1.0)), drawn over the pass bar.
  CHECK(report.out.find("2 of 2 judged rows passed · 95% CI [34.2, 100]") != std::string::npos);
  CHECK(report.out.find("<div class=\"ci\" style=\"left:34.2%;width:65.8%\"></div>") != std::string::npos);
  // The mean (both rows 1.0 of 0-1) as a dot on its track, the interval's bar with it.
  CHECK(report.out.find("<div class=\"meanbar\" title=\"mean 1 of 0–1, 95% CI [1, 1]\">") != std::string::npos);
  CHECK(report.out.find("<div class=\"dot\" style=\"left:100%\"></div>") != std::string::npos);

  // A model the table does not list: unknown, not $0.
  std::string unpriced = row(1, false);
  unpriced.replace(unpriced.find("gpt-4.1-mini-2025-04-14"), 23, "my-finetune");
  write_file(dir.file("unpriced.jsonl"), unpriced + "\n");
  auto unknown = run_llmeval({"report", dir.file("unpriced.jsonl")});
  REQUIRE(unknown.exit_code == 0);
  CHECK(unknown.out.find("<div class=\"label\">Cost</div><div class=\"value\">unknown</div>") != std::string::npos);
  CHECK(unknown.out.find("Budget") == std::string::npos);
}
