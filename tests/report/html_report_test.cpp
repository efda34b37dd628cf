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

namespace {

json judge_json(const std::string& provider) {
  return {{"provider", provider},
          {"model", "m"},
          {"attempts", 1},
          {"fallback", false},
          {"latency_ms", 40},
          {"tokens", {{"input", 10}, {"output", 2}}}};
}

// Rows with a labelled 1-5 criterion judged by a jury of three (the third, named with markup,
// abstains on every third row), a labelled binary criterion of one judge, and pairwise rows
// of three models judged in both orders, some position-inconsistent.
std::string jury_pairwise_results() {
  const std::vector<std::string> jurors = {"alpha", "beta", "<b>gamma</b>"};
  std::string text;
  std::int64_t line = 0;
  for (int i = 0; i < 12; ++i) {
    json jury = json::array();
    double sum = 0;
    int scored = 0;
    for (std::size_t j = 0; j < jurors.size(); ++j) {
      const bool abstains = j == 2 && i % 3 == 0;
      const int score = 1 + (i + static_cast<int>(j) * (i % 2)) % 5;
      jury.push_back({{"provider", jurors[j]},
                      {"model", "m"},
                      {"score", abstains ? json(nullptr) : json(score)},
                      {"reason", abstains ? "no JSON" : "juror says " + std::to_string(score)},
                      {"status", abstains ? "judge_unparseable" : "ok"},
                      {"judge", judge_json(jurors[j])}});
      if (!abstains) {
        sum += score;
        ++scored;
      }
    }
    const double mean = sum / scored;
    const bool safe = i % 4 != 0;
    json row = {{"id", "s" + std::to_string(i)},
                {"line", ++line},
                {"status", "ok"},
                {"pass", mean >= 3 && safe},
                {"score", 0.5},
                {"criteria",
                 {{"correct",
                   {{"score", mean},
                    {"normalized", (mean - 1) / 4},
                    {"pass", mean >= 3},
                    {"reason", "jury mean"},
                    {"scale", "1-5"},
                    {"label", 1 + (i * 2) % 5},
                    {"jury", jury}}},
                  {"safe",
                   {{"score", safe ? 1 : 0},
                    {"normalized", safe ? 1 : 0},
                    {"pass", safe},
                    {"reason", "ok"},
                    {"judge", judge_json("alpha")},
                    {"scale", "binary"},
                    {"label", i % 3 != 0 ? 1 : 0}}}}},
                {"metadata", json::object()},
                {"error", nullptr}};
    text += row.dump() + "\n";
  }
  const std::vector<std::pair<std::string, std::string>> pairs = {{"m1", "m2"}, {"m2", "m3"}, {"m1", "m3"},
                                                                  {"m2", "m1"}, {"m3", "m2"}, {"m3", "m1"}};
  for (int i = 0; i < 12; ++i) {
    const auto& [a, b] = pairs[static_cast<std::size_t>(i) % pairs.size()];
    const bool inconsistent = i % 5 == 0;
    // The better model (lower number) wins when the orders agree.
    const std::string winner = inconsistent ? "tie" : (a < b ? "a" : "b");
    const std::string first = inconsistent ? "A" : (winner == "a" ? "A" : "B");
    const std::string second = inconsistent ? "A" : (winner == "a" ? "B" : "A");
    json row = {{"id", "p" + std::to_string(i)},
                {"line", ++line},
                {"model_a", a},
                {"model_b", b},
                {"status", "ok"},
                {"pass", winner != "a"},
                {"score", winner == "b" ? 1.0 : (winner == "tie" ? 0.5 : 0.0)},
                {"criteria",
                 {{"better",
                   {{"score", winner == "b" ? 1.0 : (winner == "tie" ? 0.5 : 0.0)},
                    {"normalized", winner == "b" ? 1.0 : (winner == "tie" ? 0.5 : 0.0)},
                    {"pass", winner != "a"},
                    {"reason", "resolved"},
                    {"judge", judge_json("alpha")},
                    {"winner", winner},
                    {"position_inconsistent", inconsistent},
                    {"orders",
                     {{{"shown_as_a", "a"}, {"winner", first}, {"reason", "first order"}, {"judge", judge_json("alpha")}},
                      {{"shown_as_a", "b"},
                       {"winner", second},
                       {"reason", "second order"},
                       {"judge", judge_json("alpha")}}}}}}}},
                {"metadata", json::object()},
                {"error", nullptr}};
    text += row.dump() + "\n";
  }
  return text;
}

std::string num_cell(const std::string& text) { return "<td class=\"num\">" + text + "</td>"; }

}  // namespace

TEST_CASE("labels, a jury and pairwise criteria get their sections, with the summary's numbers", "[report]") {
  testing::TempDir dir;
  const std::string results = dir.file("results.jsonl");
  testing::write_file(results, jury_pairwise_results());
  output::Summary summary;
  REQUIRE(output::for_each_result_row(results, [&](const output::ResultRecord& row) { summary.add(row); }).ok());
  const json expected = summary.to_json(summary.counters_from_rows(), 0);
  REQUIRE(expected.contains("agreement"));
  REQUIRE(expected.contains("jury_agreement"));
  REQUIRE(expected.contains("pairwise"));

  report::ReportOptions options;
  options.results_path = results;
  const std::string html = render(options);
  const auto fixed = [](const json& value, int decimals) {
    return report::format_fixed(value.is_number() ? std::optional<double>(value.get<double>()) : std::nullopt,
                                decimals);
  };
  const auto percent = [](const json& value) {
    return report::format_percent(value.is_number() ? std::optional<double>(value.get<double>()) : std::nullopt);
  };

  for (const char* section : {"id=\"agreement\"", "id=\"jury\"", "id=\"pairwise\""}) {
    INFO(section);
    CHECK(html.find(section) != std::string::npos);
  }

  // Human agreement: one table row per labelled criterion, numbers as the summary table rounds them.
  for (const auto& [name, a] : expected["agreement"].items()) {
    INFO(name << ": " << a.dump());
    const bool binary = a["scale"] == "binary";
    CHECK_THAT(html, Catch::Contains("<tr><td>" + name + "</td><td>" + a["scale"].get<std::string>() + "</td><td>" +
                                     (binary ? "unweighted" : "quadratic") + "</td>" + num_cell(a["n"].dump()) +
                                     num_cell(percent(a["exact"])) + num_cell(percent(a["within_one"])) +
                                     num_cell(fixed(a["kappa"], 3)) + num_cell(fixed(a["spearman"], 3)) +
                                     num_cell(fixed(a["kendall_tau_b"], 3)) + "</tr>"));
    // The confusion matrix: one cell per (judge score, label), its count in the tooltip.
    const json& confusion = a["confusion"];
    for (std::size_t i = 0; i < confusion["scores"].size(); ++i) {
      for (std::size_t j = 0; j < confusion["scores"].size(); ++j) {
        const std::int64_t count = confusion["counts"][i][j];
        CHECK_THAT(html, Catch::Contains("<title>judge " + confusion["scores"][i].dump() + ", label " +
                                         confusion["scores"][j].dump() + ": " + std::to_string(count) +
                                         (count == 1 ? " row" : " rows") + "</title>"));
      }
    }
  }
  CHECK(expected["agreement"]["correct"]["kappa_weights"] == "quadratic");
  CHECK(expected["agreement"]["safe"]["within_one"].is_null());

  // Jury agreement: alpha, each pair's kappa, each juror's histogram; names escaped.
  const json& jury = expected["jury_agreement"]["correct"];
  CHECK_THAT(html, Catch::Contains("Krippendorff's α " + fixed(jury["alpha"], 3) + " (interval) · 3 jurors · 12 rows"));
  REQUIRE(jury["pairs"].size() == 3);
  for (const json& pair : jury["pairs"]) {
    INFO(pair.dump());
    CHECK_THAT(html, Catch::Contains("<td>" + report::html_escape(pair["a"].get<std::string>()) + "</td><td>" +
                                     report::html_escape(pair["b"].get<std::string>()) + "</td><td>quadratic</td>" +
                                     num_cell(pair["n"].dump()) + num_cell(fixed(pair["kappa"], 3))));
  }
  CHECK_THAT(html, Catch::Contains("<h3>&lt;b&gt;gamma&lt;/b&gt;</h3><div class=\"stats\">8 of 12 rows scored</div>"));
  CHECK_THAT(html, !Catch::Contains("<b>gamma</b>"));
  for (std::size_t s = 0; s < jury["scores"].size(); ++s) {
    const std::int64_t count = jury["distribution"]["alpha"][s];
    CHECK_THAT(html, Catch::Contains("<title>alpha gave " + jury["scores"][s].dump() + ": " + std::to_string(count) +
                                     (count == 1 ? " row" : " rows") + "</title>"));
  }

  // Pairwise: wins, ties, b's win rate and its interval, position consistency, the ranking.
  const json& p = expected["pairwise"]["better"];
  INFO(p.dump());
  CHECK_THAT(html, Catch::Contains("<span class=\"a\">a wins " + p["wins_a"].dump() + "</span><span class=\"tie\">ties " +
                                   p["ties"].dump() + "</span><span class=\"b\">b wins " + p["wins_b"].dump() +
                                   "</span>"));
  CHECK_THAT(html, Catch::Contains("b's win rate " + percent(p["b_win_rate"]) + " (95% CI [" +
                                   report::format_decimal(p["b_win_rate_ci"][0].get<double>() * 100, 1) + ", " +
                                   report::format_decimal(p["b_win_rate_ci"][1].get<double>() * 100, 1) + "])"));
  CHECK_THAT(html, Catch::Contains("position-consistent " + percent(p["position_consistency"]) + " · " +
                                   p["position_inconsistent"].dump() + " inconsistent"));
  CHECK(p["position_inconsistent"] == 3);
  REQUIRE(p["ranking"].size() == 3);
  std::int64_t rank = 0;
  for (const json& r : p["ranking"]) {
    CHECK_THAT(html, Catch::Contains("<tr><td>" + std::to_string(++rank) + "</td><td>" +
                                     r["model"].get<std::string>() + "</td>" + num_cell(fixed(r["strength"], 2)) +
                                     num_cell("[" + fixed(r["ci"][0], 2) + ", " + fixed(r["ci"][1], 2) + "]") +
                                     num_cell(r["comparisons"].dump()) + "</tr>"));
  }
  CHECK(p["ranking"][0]["model"] == "m1");

  // Jurors' calls count in the latency and providers sections (the abstentions made none).
  CHECK_THAT(html, Catch::Contains("<td>&lt;b&gt;gamma&lt;/b&gt;</td><td>m</td><td class=\"num\">8</td>"));

  // The rows carry each juror's verdict and both orders, for the row detail.
  const json data = testing::report_data(html);
  const json& first = *row_with_line(data, 1);
  const std::size_t correct = 0;
  REQUIRE(data["criteria"][correct] == "correct");
  const json& extras = first["c"][0][8];
  CHECK(extras["lb"] == 1);
  REQUIRE(extras["j"].size() == 3);
  CHECK(extras["j"][0][0] == "alpha");
  CHECK(extras["j"][2][2].is_null());
  CHECK(extras["j"][2][3] == "judge_unparseable");
  CHECK(first["c"][0][5] == "jury of 3");
  const json& pair = *row_with_line(data, 13);
  CHECK(pair["ma"] == "m1");
  CHECK(pair["mb"] == "m2");
  const json& verdict = pair["c"][0][8];
  CHECK(verdict["w"] == "tie");
  CHECK(verdict["pi"] == 1);
  REQUIRE(verdict["or"].size() == 2);
  CHECK(verdict["or"][1] == json::array({"b", "A", "second order", "alpha/m"}));
}

TEST_CASE("a report without labels, juries or pairwise criteria has none of their sections", "[report]") {
  report::ReportOptions options;
  options.results_path = kGoldenResults;
  const std::string html = render(options);
  for (const char* section : {"id=\"agreement\"", "id=\"jury\"", "id=\"pairwise\"", "<h2>Human agreement</h2>",
                              "<h2>Jury agreement</h2>", "<h2>Pairwise</h2>", "<svg class=\"heatmap\""}) {
    INFO(section);
    CHECK(html.find(section) == std::string::npos);
  }
  // Nor do its rows carry the extras of a criterion or the pair's models.
  const json data = testing::report_data(html);
  for (const json& row : data["rows"]) {
    CHECK_FALSE(row.contains("ma"));
    for (const json& criterion : row["c"]) CHECK(criterion.size() == 8);
  }
}
