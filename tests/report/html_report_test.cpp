// write_html_report on the golden results file: one self-contained page whose embedded rows
// decode to what the results say, joined with the dataset's prompts and outputs and compared
// with a baseline. (tests/report/check_report.mjs opens such pages in Chromium.)
#include <catch2/catch.hpp>

#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/output/result_reader.h"
#include "core/output/summary.h"
#include "core/report/html_report.h"
#include "core/report/html_text.h"
#include "tests/support/build_paths.h"
#include "tests/support/files.h"
#include "tests/support/report_data.h"

namespace {

using namespace llmeval;
using nlohmann::json;

const std::string kGoldenResults = std::string(llmeval::testing::source_dir()) + "/tests/data/golden/results.jsonl";

std::string render(const report::ReportOptions& options) {
  std::ostringstream out;
  auto rows = report::write_html_report(options, out);
  INFO((rows.ok() ? "" : rows.error().message));
  REQUIRE(rows.ok());
  return out.str();
}

const json* row_with_line(const json& data, std::int64_t line) {
  for (const json& row : data["rows"]) {
    if (row["l"] == line) return &row;
  }
  return nullptr;
}

}  // namespace

TEST_CASE("the HTML report is one page that loads nothing from anywhere", "[report]") {
  report::ReportOptions options;
  options.results_path = kGoldenResults;
  options.version = "9.9.9";
  const std::string html = render(options);

  CHECK(html.rfind("<!doctype html>", 0) == 0);
  CHECK(html.find("</html>") != std::string::npos);
  for (const char* reference : {"<link", " src=", "href=", "url(", "@import", "<iframe", "<img"}) {
    INFO(reference);
    CHECK(html.find(reference) == std::string::npos);
  }
  // The browser refuses any load the page might still attempt.
  CHECK(html.find("Content-Security-Policy\" content=\"default-src 'none'") != std::string::npos);
  for (const char* section : {"id=\"headline\"", "id=\"criteria\"", "id=\"latency\"", "id=\"providers\"",
                              "id=\"errors\"", "id=\"table-app\"", "<svg class=\"chart histogram\""}) {
    INFO(section);
    CHECK(html.find(section) != std::string::npos);
  }
  CHECK(html.find("id=\"compare\"") == std::string::npos);
}

TEST_CASE("the report's headline numbers are the summary's", "[report]") {
  output::Summary summary;
  REQUIRE(output::for_each_result_row(kGoldenResults, [&](const output::ResultRecord& row) { summary.add(row); }).ok());
  const json expected = summary.to_json(summary.counters_from_rows(), 0);

  report::ReportOptions options;
  options.results_path = kGoldenResults;
  const std::string html = render(options);
  const std::string pass_rate = report::format_percent(expected["pass_rate"].get<double>());
  CHECK(html.find("<div class=\"label\">Pass rate</div><div class=\"value\">" + pass_rate + "</div>") !=
        std::string::npos);
  const std::int64_t errors = expected["error"].get<std::int64_t>() + expected["invalid"].get<std::int64_t>();
  CHECK(html.find("<div class=\"label\">Errors</div><div class=\"value\">" + std::to_string(errors) + "</div>") !=
        std::string::npos);
  for (const auto& [kind, entry] : expected["errors_by_kind"].items()) {
    CHECK(html.find("<td>" + kind + "</td><td class=\"num\">" + entry["count"].dump() + "</td>") !=
          std::string::npos);
  }
  // Five judge calls of 300 in and 40 out; three read 256 input tokens from the prompt cache.
  CHECK(expected["tokens"]["input"] == 1500);
  CHECK(expected["tokens"]["output"] == 200);
  CHECK(expected["tokens"]["cached_input"] == 768);
  CHECK_THAT(html, Catch::Contains("<div class=\"label\">Tokens</div><div class=\"value\">1,700</div>"
                                   "<div class=\"detail\">1,500 in (768 cached) · 200 out</div>"));
}

TEST_CASE("the Tokens card names cached tokens only when there are some", "[report]") {
  testing::TempDir dir;
  testing::write_file(
      dir.file("results.jsonl"),
      R"({"id":"a","line":1,"status":"ok","pass":true,"score":1,"criteria":{"c":{"score":5,"normalized":1,"pass":true,"reason":"","judge":{"provider":"p","model":"m","attempts":1,"fallback":false,"latency_ms":5,"tokens":{"input":1200,"output":300}}}},"metadata":{},"error":null})"
      "\n");
  report::ReportOptions options;
  options.results_path = dir.file("results.jsonl");
  const std::string html = render(options);
  CHECK_THAT(html, Catch::Contains("<div class=\"detail\">1,200 in · 300 out</div>"));
  CHECK_THAT(html, !Catch::Contains(" cached)"));
}

TEST_CASE("the embedded rows are the results file's rows", "[report]") {
  report::ReportOptions options;
  options.results_path = kGoldenResults;
  const json data = testing::report_data(render(options));

  CHECK(data["version"] == 1);
  CHECK(data["has_texts"] == false);
  CHECK(data["baseline"].is_null());
  const auto lines = testing::read_lines(kGoldenResults);
  REQUIRE(data["rows"].size() == lines.size());
  // Row by row, in file order, against the result lines themselves.
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const json result = json::parse(lines[i]);
    const json& row = data["rows"][i];
    INFO(lines[i]);
    CHECK(row["l"] == result["line"]);
    CHECK(row["s"] == result["status"]);
    CHECK(row["p"] == result["pass"]);
    CHECK(row["c"].size() == result["criteria"].size());
    if (result["error"].is_object()) {
      CHECK(row["e"][0] == result["error"]["kind"]);
    } else {
      CHECK_FALSE(row.contains("e"));
    }
    for (const json& criterion : row["c"]) {
      const std::string name = data["criteria"][criterion[0].get<std::size_t>()];
      CHECK(criterion[1] == result["criteria"][name]["score"]);
      CHECK(criterion[3] == (result["criteria"][name]["pass"].get<bool>() ? 1 : 0));
      CHECK(criterion[4] == result["criteria"][name]["reason"]);
    }
  }
}

TEST_CASE("with --dataset each row shows its prompt and output, long ones cut", "[report]") {
  testing::TempDir dir;
  const std::string dataset = dir.file("dataset.jsonl");
  testing::write_file(dataset,
                      R"({"id":"q1","prompt":"<img src=x onerror=alert(1)>","output":"Paris","criteria":"c"})" "\n"
                      R"({"id":"x","question":"Q2","response":")" + std::string(500, 'y') + R"(","criteria":"c"})" "\n"
                      "not json\n"
                      R"({"input":["a","b"],"output":"z"})" "\n");
  report::ReportOptions options;
  options.results_path = kGoldenResults;
  options.dataset_path = dataset;
  options.max_text_bytes = 100;
  const json data = testing::report_data(render(options));
  CHECK(data["has_texts"] == true);
  const json* q1 = row_with_line(data, 1);
  REQUIRE(q1 != nullptr);
  CHECK((*q1)["pr"] == "<img src=x onerror=alert(1)>");  // data stays data: report.js shows it as text
  CHECK((*q1)["o"] == "Paris");
  const json* second = row_with_line(data, 2);
  REQUIRE(second != nullptr);
  CHECK((*second)["pr"] == "Q2");
  CHECK((*second)["o"] == std::string(100, 'y') + "… [+400 bytes]");
  const json* not_json = row_with_line(data, 3);
  REQUIRE(not_json != nullptr);
  CHECK_FALSE(not_json->contains("pr"));
  CHECK((*row_with_line(data, 4))["pr"] == R"(["a","b"])");
  CHECK_FALSE(row_with_line(data, 6)->contains("pr"));  // the dataset has no line 6
}

TEST_CASE("names from the results are escaped in the page", "[report]") {
  testing::TempDir dir;
  const std::string results = dir.file("results.jsonl");
  testing::write_file(results,
                      R"({"id":"a","line":1,"status":"ok","pass":true,"score":1,"criteria":{"<script>alert(1)</script>":{"score":5,"normalized":1,"pass":true,"reason":"","judge":{"provider":"<b>p</b>","model":"m\"","attempts":1,"fallback":false,"latency_ms":5,"tokens":{"input":1,"output":1}}}},"metadata":{},"error":null})"
                      "\n"
                      R"({"id":"b","line":2,"status":"error","pass":null,"score":null,"criteria":{},"metadata":{},"error":{"kind":"<i>kind</i>","message":"m"}})"
                      "\n");
  report::ReportOptions options;
  options.results_path = results;
  const std::string html = render(options);
  CHECK(html.find("<script>alert(1)") == std::string::npos);
  CHECK(html.find("&lt;script&gt;alert(1)&lt;/script&gt;") != std::string::npos);
  CHECK(html.find("<b>p</b>") == std::string::npos);
  CHECK(html.find("<i>kind</i>") == std::string::npos);
  CHECK(html.find("&lt;i&gt;kind&lt;/i&gt;") != std::string::npos);
}

TEST_CASE("with --compare rows carry their baseline and how their verdict changed", "[report]") {
  testing::TempDir dir;
  // The baseline: q1 failed then (it passes in the golden file), line 2's row passed then (it
  // fails now), q3 was judged then (it is an error now), and a row the golden file lacks.
  const std::string baseline = dir.file("baseline.jsonl");
  std::string text;
  for (const std::string& line : testing::read_lines(kGoldenResults)) {
    json row = json::parse(line);
    if (row["id"] == "q1" || row["line"] == 2) {
      const bool flipped = !row["pass"].get<bool>();
      row["pass"] = flipped;
      for (auto& [name, criterion] : row["criteria"].items()) criterion["pass"] = flipped;
    }
    if (row["id"] == "q3") {
      row["status"] = "ok";
      row["pass"] = true;
      row["score"] = 1;
      row["error"] = nullptr;
    }
    text += row.dump() + "\n";
  }
  text += R"({"id":"gone","line":9,"status":"ok","pass":true,"score":1,"criteria":{},"metadata":{},"error":null})" "\n";
  testing::write_file(baseline, text);

  report::ReportOptions options;
  options.results_path = kGoldenResults;
  options.baseline_path = baseline;
  const std::string html = render(options);
  CHECK(html.find("id=\"compare\"") != std::string::npos);
  CHECK(html.find("<div class=\"label\">Regressed</div><div class=\"value\">1</div>") != std::string::npos);
  CHECK(html.find("<div class=\"label\">Fixed</div><div class=\"value\">1</div>") != std::string::npos);
  CHECK(html.find("<div class=\"label\">New errors</div><div class=\"value\">1</div>") != std::string::npos);

  const json data = testing::report_data(html);
  CHECK(data["baseline"]["name"] == "baseline.jsonl");
  CHECK((*row_with_line(data, 1))["ch"] == "fixed");
  CHECK((*row_with_line(data, 2))["ch"] == "regressed");
  CHECK((*row_with_line(data, 2))["b"]["p"] == true);
  CHECK((*row_with_line(data, 3))["ch"] == "new_error");
  CHECK_FALSE(row_with_line(data, 5)->contains("ch"));
  REQUIRE(data["baseline_only"].size() == 1);
  CHECK(data["baseline_only"][0]["i"] == "gone");
}

TEST_CASE("the report returns unreadable inputs as errors and writes nothing", "[report]") {
  testing::TempDir dir;
  const std::string results = dir.file("results.jsonl");
  testing::write_file(results, R"({"id":"q","line":1,"status":"ok","criteria":{"c":{"score":null}}})" "\n");
  struct Case {
    const char* name;
    report::ReportOptions options;
    std::string message;
  };
  report::ReportOptions malformed;
  malformed.results_path = results;
  report::ReportOptions no_dataset;
  no_dataset.results_path = kGoldenResults;
  no_dataset.dataset_path = dir.file("none.jsonl");
  report::ReportOptions bad_baseline;
  bad_baseline.results_path = kGoldenResults;
  bad_baseline.baseline_path = results;
  const std::vector<Case> cases = {
      {"a row with a wrong type", malformed,
       results + R"(:1: not a result row: field "criteria.c.score" must be a number, got null)"},
      {"a missing dataset", no_dataset, "cannot read dataset " + dir.file("none.jsonl")},
      {"a malformed baseline", bad_baseline,
       results + R"(:1: not a result row: field "criteria.c.score" must be a number, got null)"},
  };
  for (const Case& c : cases) {
    INFO(c.name);
    std::ostringstream out;
    auto rows = report::write_html_report(c.options, out);
    REQUIRE_FALSE(rows.ok());
    CHECK(rows.error().message == c.message);
    CHECK(out.str().empty());
  }
}
