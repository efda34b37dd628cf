// `llmeval compare` end to end on two results files of one dataset, and `report --compare`
// showing the same numbers, digit for digit.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/support/build_paths.h"
#include "tests/support/files.h"
#include "tests/support/process.h"

namespace {

using llmeval::testing::run_process;
using llmeval::testing::TempDir;
using llmeval::testing::write_file;
using nlohmann::json;

// Rows 1..n of a one-criterion run; a row passes when passes(line) says so.
std::string results(int n, bool (*passes)(int)) {
  std::string text;
  for (int line = 1; line <= n; ++line) {
    const bool pass = passes(line);
    json criterion = {{"score", pass ? 5 : 2}, {"normalized", pass ? 1.0 : 0.25}, {"pass", pass}, {"reason", "r"}};
    text += json{{"id", "q" + std::to_string(line)},
                 {"line", line},
                 {"status", "ok"},
                 {"pass", pass},
                 {"score", pass ? 1.0 : 0.25},
                 {"criteria", {{"quality", criterion}}}}
                .dump() +
            "\n";
  }
  return text;
}

std::string unescape_html(std::string text) {
  for (auto [entity, plain] : std::vector<std::pair<std::string, std::string>>{
           {"&lt;", "<"}, {"&gt;", ">"}, {"&quot;", "\""}, {"&#39;", "'"}, {"&amp;", "&"}}) {
    for (std::size_t at = text.find(entity); at != std::string::npos; at = text.find(entity, at + plain.size())) {
      text.replace(at, entity.size(), plain);
    }
  }
  return text;
}

}  // namespace

TEST_CASE("compare: a better candidate, a regression gate, JSON, and the report's identical numbers",
          "[cli][compare]") {
  TempDir dir;
  write_file(dir.file("baseline.jsonl"), results(300, [](int line) { return line % 5 < 3; }));   // 60%
  write_file(dir.file("candidate.jsonl"), results(302, [](int line) { return line % 5 < 4; }));  // 80%
  const std::string llmeval = llmeval::testing::llmeval_binary();

  auto better = run_process({llmeval, "compare", dir.file("baseline.jsonl"), dir.file("candidate.jsonl")});
  INFO(better.out << better.err);
  CHECK(better.exit_code == 0);
  CHECK(better.out.find("rows: 300 matched and judged in both, 0 excluded (error or invalid in one), 0 only in the "
                        "baseline, 2 only in the candidate") != std::string::npos);
  CHECK(better.out.find("  rows                     60.0%     80.0%") != std::string::npos);
  CHECK(better.out.find("better") != std::string::npos);

  auto gate = run_process(
      {llmeval, "compare", dir.file("candidate.jsonl"), dir.file("baseline.jsonl"), "--fail-on-regression", "--json"});
  CHECK(gate.exit_code == 1);
  json j = json::parse(gate.out);
  CHECK(j["lines"][0]["verdict"] == "worse");
  CHECK(j["lines"][0]["difference"].get<double>() == Approx(-0.2));
  CHECK(j["lines"][0]["baseline_only"] == 60);
  CHECK(j["regression"] == true);
  CHECK(run_process({llmeval, "compare", dir.file("candidate.jsonl"), dir.file("baseline.jsonl")}).exit_code == 0);

  // Noise: the same file against itself is no regression, with no planning hint (no difference).
  auto same = run_process(
      {llmeval, "compare", dir.file("baseline.jsonl"), dir.file("baseline.jsonl"), "--fail-on-regression"});
  CHECK(same.exit_code == 0);
  CHECK(same.out.find("better") == std::string::npos);

  auto report = run_process({llmeval, "report", dir.file("candidate.jsonl"), "--compare", dir.file("baseline.jsonl")});
  REQUIRE(report.exit_code == 0);
  const std::string open = "<pre class=\"significance significant\">";
  const auto start = report.out.find(open);
  REQUIRE(start != std::string::npos);
  const auto end = report.out.find("</pre>", start);
  const std::string shown = unescape_html(report.out.substr(start + open.size(), end - start - open.size()));
  const std::string printed = better.out.substr(better.out.find('\n') + 1);  // after the file names
  CHECK(shown == printed);
}
