// The HTML report's parts: text helpers, the gzip+base64 stream, score distributions and
// latency buckets, and how rows are compared with a baseline.
#include <catch2/catch.hpp>

#include <sstream>
#include <string>

#include "core/output/result_reader.h"
#include "core/report/gzip_base64.h"
#include "core/report/html_text.h"
#include "core/report/report_stats.h"
#include "core/report/run_comparison.h"
#include "core/report/svg_chart.h"
#include "tests/support/files.h"
#include "tests/support/report_data.h"

namespace {

using namespace llmeval;
using report::Bar;

output::ResultRecord row_from(const std::string& line) {
  auto record = output::parse_result_line(line);
  REQUIRE(record);
  return record.value();
}

std::string verdict_row(const std::string& id, const std::string& status, bool pass, bool tone_pass = true) {
  if (status != "ok") {
    return R"({"id":")" + id + R"(","line":1,"status":")" + status +
           R"(","pass":null,"score":null,"criteria":{},"metadata":{},"error":{"kind":"timeout","message":"m"}})";
  }
  const std::string p = pass ? "true" : "false";
  const std::string t = tone_pass ? "true" : "false";
  return R"({"id":")" + id + R"(","line":1,"status":"ok","pass":)" + p + R"(,"score":0.5,"criteria":{"c":{"score":3,"normalized":0.5,"pass":)" +
         p + R"(,"reason":"r"},"tone":{"score":1,"normalized":1,"pass":)" + t +
         R"(,"reason":"r","type":"contains"}},"metadata":{},"error":null})";
}

}  // namespace

TEST_CASE("html_escape escapes markup and quotes", "[report]") {
  CHECK(report::html_escape(R"x(<img src=x onerror="a('b')"> & co)x") ==
        "&lt;img src=x onerror=&quot;a(&#39;b&#39;)&quot;&gt; &amp; co");
}

TEST_CASE("numbers read as people read them", "[report]") {
  CHECK(report::format_count(0) == "0");
  CHECK(report::format_count(1234567) == "1,234,567");
  CHECK(report::format_count(-1000) == "-1,000");
  CHECK(report::format_compact(9'999'999) == "9,999,999");
  CHECK(report::format_compact(105'676'066) == "105.7 M");
  CHECK(report::format_compact(2'100'000'000) == "2.1 B");
  CHECK(report::format_percent(0.8213) == "82.1%");
  CHECK(report::format_percent(std::nullopt) == "–");
  CHECK(report::format_decimal(2.50) == "2.5");
  CHECK(report::format_fixed(0.0963855, 3) == "0.096");  // as the summary table prints kappa
  CHECK(report::format_fixed(1.0, 3) == "1.000");
  CHECK(report::format_fixed(std::nullopt, 3) == "–");
  CHECK(report::format_decimal(-0.001) == "0");
  CHECK(report::format_ms(640) == "640 ms");
  CHECK(report::format_ms(1234) == "1.2 s");
  CHECK(report::format_ms(65'000) == "1 m 05 s");
  CHECK(report::format_delta(0.04, 2) == "+0.04");
  CHECK(report::format_delta(-12.5, 1, " pp") == "-12.5 pp");
  CHECK(report::format_delta(0.0001, 2) == "±0");
}

TEST_CASE("cut_text cuts on a character boundary and says how much was left out", "[report]") {
  CHECK(report::cut_text("short", 10) == "short");
  // "é" is two bytes: a cut after 2 bytes would split it, so the cut moves back to 1 byte.
  CHECK(report::cut_text("aéb", 2) == "a… [+3 bytes]");
  CHECK(report::cut_text(std::string(5000, 'x'), 1000) == std::string(1000, 'x') + "… [+4,000 bytes]");
}

TEST_CASE("GzipBase64Writer round-trips any bytes through gzip and base64", "[report]") {
  // Sizes around base64's groups of three and deflate's output buffer.
  for (std::size_t size : {0u, 1u, 2u, 3u, 4u, 65'535u, 200'001u}) {
    std::string input;
    std::uint32_t state = static_cast<std::uint32_t>(size) + 7;
    for (std::size_t i = 0; i < size; ++i) {
      state = state * 1103515245 + 12345;  // incompressible enough to need several output chunks
      input += static_cast<char>(state >> 24);
    }
    std::ostringstream out;
    auto writer = report::GzipBase64Writer::open(out).value();
    REQUIRE(writer->write(std::string_view(input).substr(0, size / 2)).ok());
    REQUIRE(writer->write(std::string_view(input).substr(size / 2)).ok());
    REQUIRE(writer->finish().ok());
    const std::string encoded = out.str();
    INFO("size " << size);
    CHECK(encoded.size() % 4 == 0);
    CHECK(encoded.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=") ==
          std::string::npos);
    CHECK(testing::gunzip(testing::base64_decode(encoded)) == input);
  }
}

TEST_CASE("GzipBase64Writer compresses repetitive text", "[report]") {
  std::string text;
  for (int i = 0; i < 10'000; ++i) text += R"({"l":)" + std::to_string(i) + R"(,"s":"ok","p":true,"c":[[0,4,0.75,1,"Correct."]]},)";
  std::ostringstream out;
  auto writer = report::GzipBase64Writer::open(out).value();
  REQUIRE(writer->write(text).ok());
  REQUIRE(writer->finish().ok());
  CHECK(out.str().size() * 5 < text.size());
}

TEST_CASE("a score distribution shows the whole scale, gaps included", "[report]") {
  report::ScoreDistribution one_to_five;
  one_to_five.add(2, 0.25, false);
  one_to_five.add(4, 0.75, true);
  one_to_five.add(4, 0.75, true);
  const auto bars = one_to_five.bars();
  REQUIRE(bars.size() == 5);
  CHECK(bars[0].label == "1");
  CHECK(bars[0].count == 0);
  CHECK(bars[1].count == 1);
  CHECK(bars[1].css_class == "fail");
  CHECK(bars[3].count == 2);
  CHECK(bars[3].css_class == "pass");
  CHECK(bars[4].label == "5");

  report::ScoreDistribution check;  // deterministic checks score 0 or 1
  check.add(1, 1, true);
  const auto check_bars = check.bars();
  REQUIRE(check_bars.size() == 2);
  CHECK(check_bars[0].label == "0");
  CHECK(check_bars[1].count == 1);

  report::ScoreDistribution one_to_ten;
  one_to_ten.add(7, 6.0 / 9, true);
  CHECK(one_to_ten.bars().size() == 10);
}

TEST_CASE("scores that are not integers fall back to ten bins of the normalized score", "[report]") {
  report::ScoreDistribution distribution;
  distribution.add(3, 0.5, true);
  distribution.add(3.5, 0.625, true);
  distribution.add(1, 0, false);
  const auto bars = distribution.bars();
  REQUIRE(bars.size() == 10);
  CHECK(bars[0].count == 1);  // 0.0
  CHECK(bars[5].count == 1);  // 0.5
  CHECK(bars[6].count == 1);  // 0.625
  std::int64_t total = 0;
  for (const Bar& bar : bars) total += bar.count;
  CHECK(total == 3);
}

TEST_CASE("report stats bucket judge latencies and count providers and fallbacks", "[report]") {
  report::ReportStats stats;
  auto judged = [](int latency, const std::string& provider, bool fallback) {
    return R"({"id":"x","line":1,"status":"ok","pass":true,"score":1,"criteria":{"c":{"score":5,"normalized":1,"pass":true,"reason":"","judge":{"provider":")" +
           provider + R"(","model":"m","attempts":2,"fallback":)" + (fallback ? "true" : "false") +
           R"(,"latency_ms":)" + std::to_string(latency) +
           R"(,"tokens":{"input":10,"output":2}}}},"metadata":{},"error":null})";
  };
  stats.add(row_from(judged(99, "a", false)));
  stats.add(row_from(judged(100, "a", false)));
  stats.add(row_from(judged(70'000, "b", true)));
  const auto bars = stats.latency_bars();
  REQUIRE(bars.size() == report::ReportStats::kLatencyBoundsMs.size() + 1);
  CHECK(bars[0].count == 1);  // under 100 ms
  CHECK(bars[1].count == 1);  // 100 ms counts as 100-250
  CHECK(bars.back().count == 1);
  CHECK(stats.llm_calls() == 3);
  CHECK(stats.rows_with_fallback() == 1);
  const auto& a = stats.judges().at({"a", "m"});
  CHECK(a.judged == 2);
  CHECK(a.attempts == 4);
  CHECK(a.tokens_in == 20);
  CHECK(stats.judges().at({"b", "m"}).as_fallback == 1);
  CHECK(stats.criterion_order() == std::vector<std::string>{"c"});
}

TEST_CASE("rows are compared with the baseline row of the same id", "[report]") {
  testing::TempDir dir;
  const std::string baseline = dir.file("baseline.jsonl");
  testing::write_file(baseline, verdict_row("pass-then-fail", "ok", true) + "\n" +
                                    verdict_row("fail-then-pass", "ok", false) + "\n" +
                                    verdict_row("judged-then-error", "ok", true) + "\n" +
                                    verdict_row("error-then-judged", "error", false) + "\n" +
                                    verdict_row("tone-flips", "ok", false, true) + "\n" +
                                    verdict_row("same", "ok", true) + "\n" +
                                    verdict_row("only-in-baseline", "ok", true) + "\n");
  auto loaded = report::RunComparison::load(baseline);
  REQUIRE(loaded.ok());
  report::RunComparison& comparison = *loaded.value();
  auto check = [&](const std::string& line, report::Change expected) {
    const auto row = row_from(line);
    CHECK(report::to_string(report::RunComparison::classify(row, comparison.find(row))) ==
          std::string(report::to_string(expected)));
    comparison.count(row);
  };
  check(verdict_row("pass-then-fail", "ok", false), report::Change::kRegressed);
  check(verdict_row("fail-then-pass", "ok", true), report::Change::kFixed);
  check(verdict_row("judged-then-error", "error", false), report::Change::kNewError);
  check(verdict_row("error-then-judged", "ok", true), report::Change::kRecovered);
  check(verdict_row("tone-flips", "ok", false, false), report::Change::kChanged);
  check(verdict_row("same", "ok", true), report::Change::kSame);
  check(verdict_row("brand-new", "ok", true), report::Change::kNew);
  const auto counts = comparison.counts();
  CHECK(counts.regressed == 1);
  CHECK(counts.fixed == 1);
  CHECK(counts.new_error == 1);
  CHECK(counts.recovered == 1);
  CHECK(counts.changed == 1);
  CHECK(counts.same == 1);
  CHECK(counts.added == 1);
  CHECK(counts.baseline_only == 1);
  REQUIRE(comparison.unmatched().size() == 1);
  CHECK(comparison.unmatched()[0]->id == "only-in-baseline");
}

TEST_CASE("bar charts scale to the tallest bar and keep big counts short", "[report]") {
  const std::string svg = report::bar_chart_svg(
      {{"1", 19'769, "fail", ""}, {"2", 0, "", ""}, {"3", 250'000, "pass", "three: <many>"}}, "scores of \"c\"");
  CHECK(svg.find("aria-label=\"scores of &quot;c&quot;\"") != std::string::npos);
  CHECK(svg.find(">19.8k</text>") != std::string::npos);
  CHECK(svg.find(">250k</text>") != std::string::npos);
  CHECK(svg.find("<title>three: &lt;many&gt;</title>") != std::string::npos);
  CHECK(svg.find("<title>1: 19,769</title>") != std::string::npos);  // the default tooltip is exact
  // The tallest bar fills the plot (132 - 16 - 18 = 98 units); an empty bucket has no height.
  CHECK(svg.find("class=\"bar pass\" x=\"") != std::string::npos);
  CHECK(svg.find("height=\"98\"/>") != std::string::npos);
  CHECK(svg.find("height=\"0\"/>") != std::string::npos);
}

TEST_CASE("a confusion matrix is shaded by count with its diagonal outlined", "[report]") {
  report::Heatmap heatmap;
  heatmap.row_labels = {"0", "1"};
  heatmap.column_labels = {"0", "<1>"};
  heatmap.counts = {{4, 0}, {1, 7}};
  heatmap.row_title = "judge";
  heatmap.column_title = "label";
  const std::string svg = report::heatmap_svg(heatmap, "c: judge by \"label\"");
  CHECK(svg.find("aria-label=\"c: judge by &quot;label&quot;\"") != std::string::npos);
  CHECK(svg.find("<title>judge 1, label &lt;1&gt;: 7 rows</title>") != std::string::npos);
  CHECK(svg.find("<title>judge 0, label &lt;1&gt;: 0 rows</title>") != std::string::npos);
  CHECK(svg.find("<title>judge 1, label 0: 1 row</title>") != std::string::npos);
  // The largest count is the darkest; an empty cell is not filled and shows no number.
  CHECK(svg.find("class=\"cell diagonal\"") != std::string::npos);
  CHECK(svg.find("fill-opacity=\"0.85\"") != std::string::npos);
  CHECK(svg.find("fill-opacity=\"0\"") != std::string::npos);
  CHECK(svg.find(">7</text>") != std::string::npos);
  std::size_t numbers = 0;
  for (std::size_t at = svg.find("<text class=\"value"); at != std::string::npos;
       at = svg.find("<text class=\"value", at + 1)) {
    ++numbers;
  }
  CHECK(numbers == 3);
}
