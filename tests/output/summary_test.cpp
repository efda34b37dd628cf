#include <catch2/catch.hpp>

#include <cmath>
#include <cstdio>
#include <optional>
#include <string>

#include "core/output/summary.h"
#include "core/provider/price_table.h"
#include "tests/support/build_paths.h"
#include "tests/support/files.h"

using namespace llmeval::output;

namespace {

ResultRecord judged(std::int64_t line, double score, bool pass, std::int64_t latency_ms,
                    llmeval::provider::TokenUsage tokens = {.input = 100, .output = 10},
                    const std::string& provider = "primary") {
  ResultRecord r;
  r.id = line;
  r.line = line;
  CriterionResult c;
  c.name = "quality";
  c.score = score;
  c.normalized = (score - 1) / 4;
  c.pass = pass;
  c.judge = JudgeInfo{provider, "m", 1, false, latency_ms, tokens, false};
  r.criteria.push_back(c);
  return r;
}

ResultRecord failed(std::int64_t line, Status status, const std::string& kind) {
  ResultRecord r;
  r.id = line;
  r.line = line;
  r.status = status;
  r.error = ResultError{kind, "x"};
  return r;
}

}  // namespace

TEST_CASE("Summary counts statuses and computes pass rate over judged rows only", "[output]") {
  Summary summary;
  summary.set_prices({{"primary", {1.0, 2.0, std::nullopt, std::nullopt}}});
  summary.add(judged(1, 5, true, 100));
  summary.add(judged(2, 3, false, 200));
  summary.add(judged(3, 4, true, 300));
  summary.add(failed(4, Status::kError, "timeout"));
  summary.add(failed(5, Status::kInvalid, "invalid_json"));
  summary.add(failed(6, Status::kError, "timeout"));

  RunCounters counters;
  counters.provider_requests = 5;
  auto j = summary.to_json(counters, 2.0);
  CHECK(j["rows"] == 6);
  CHECK(j["ok"] == 3);
  CHECK(j["error"] == 2);
  CHECK(j["invalid"] == 1);
  CHECK(j["pass_rate"].get<double>() == Approx(2.0 / 3.0));
  CHECK(j["criteria"]["quality"]["mean"].get<double>() == Approx(4.0));
  CHECK(j["criteria"]["quality"]["stddev"].get<double>() == Approx(1.0));
  CHECK(j["criteria"]["quality"]["min"] == 3);
  CHECK(j["criteria"]["quality"]["max"] == 5);
  CHECK(j["errors_by_kind"]["timeout"]["count"] == 2);
  CHECK(j["errors_by_kind"]["timeout"]["first_lines"] == nlohmann::json({4, 6}));
  CHECK(j["latency_ms"]["p50"] == 200);
  CHECK(j["latency_ms"]["p99"] == 300);
  CHECK(j["tokens"]["input"] == 300);
  CHECK(j["cost"].get<double>() == Approx((300 * 1.0 + 30 * 2.0) / 1e6));
  CHECK(j["rows_per_second"].get<double>() == Approx(3.0));

  std::string table = summary.to_table(counters, 2.0);
  CHECK(table.find("quality") != std::string::npos);
  CHECK(table.find("66.7%") != std::string::npos);
}

TEST_CASE("Summary has no pass rate when nothing was judged", "[output]") {
  Summary summary;
  summary.add(failed(1, Status::kError, "auth"));
  CHECK_FALSE(summary.pass_rate());
  CHECK(summary.to_json({}, 1.0)["pass_rate"].is_null());
  CHECK(summary.to_json({}, 1.0)["cost"] == 0.0);  // no tokens were used: nothing was spent
}

namespace {

// A run's worth of rows for the golden table: two criteria (one with a long name), a failed
// judge call, two invalid lines, and prices.
Summary golden_summary() {
  Summary summary;
  summary.set_prices({{"primary", llmeval::provider::Price{0.15, 0.60, 0.075, std::nullopt}}});
  for (int line = 1; line <= 6; ++line) {
    // Even lines read 60 of their 100 input tokens from the prompt cache.
    ResultRecord r = judged(line, 1 + line % 5, line % 2 == 0, 100 * line,
                            {.input = 100, .output = 10, .cached_input = line % 2 == 0 ? 60 : 0});
    CriterionResult check;
    check.name = "mentions_the_verification_step_in_the_answer";
    check.llm = false;
    check.score = line % 3 == 0 ? 0 : 1;
    check.normalized = check.score;
    check.pass = check.score == 1;
    r.criteria.push_back(check);
    summary.add(r);
  }
  summary.add(failed(7, Status::kError, "timeout"));
  summary.add(failed(8, Status::kInvalid, "invalid_json"));
  summary.add(failed(9, Status::kInvalid, "invalid_json"));
  return summary;
}

}  // namespace

TEST_CASE("The summary table is aligned and matches its golden copy", "[output][golden]") {
  Summary summary = golden_summary();
  RunCounters counters{12, 3, 1, 0, 2};
  std::string table = summary.to_table(counters, 2.5);
  std::string golden = llmeval::testing::read_file(std::string(llmeval::testing::source_dir()) +
                                                   "/tests/data/golden/summary.txt");
  INFO("got:\n" << table);
  CHECK(table == golden);
}

std::string fixed1(double v) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f", v);
  return text;
}

TEST_CASE("The summary table shows the numbers of the summary JSON", "[output][golden]") {
  Summary summary = golden_summary();
  RunCounters counters{12, 3, 1, 0, 2};
  std::string table = summary.to_table(counters, 2.5);
  nlohmann::json json = summary.to_json(counters, 2.5);
  for (const auto& [name, c] : json.at("criteria").items()) {
    char expected[128];
    const nlohmann::json& ci = c.at("pass_rate_ci");
    const std::string interval = "[" + fixed1(100 * ci[0].get<double>()) + ", " + fixed1(100 * ci[1].get<double>()) +
                                 "]";
    std::snprintf(expected, sizeof expected, "%8.2f %8.2f %8.2f %8.2f %8.1f%% %15s %7lld", c.at("mean").get<double>(),
                  c.at("stddev").get<double>(), c.at("min").get<double>(), c.at("max").get<double>(),
                  100.0 * c.at("pass_rate").get<double>(), interval.c_str(),
                  static_cast<long long>(c.at("count").get<std::int64_t>()));
    INFO(name);
    // Names past 40 characters are cut in the table, with a ~.
    std::string shown = name.size() > 40 ? name.substr(0, 39) + "~" : name;
    CHECK_THAT(table, Catch::Contains(shown + " ") && Catch::Contains(expected));
  }
  CHECK_THAT(table, Catch::Contains("rows               9  (ok 6, error 1, invalid 2)"));
  CHECK(json.at("rows") == 9);
  CHECK_THAT(table, Catch::Contains("    invalid_json       2  (lines 8, 9)"));
  CHECK(json.at("errors_by_kind").at("invalid_json").at("first_lines") == nlohmann::json{8, 9});
  CHECK_THAT(table, Catch::Contains("tokens             in 600 (cached 180)  out 60\n"));
  CHECK(json.at("tokens").at("input") == 600);
  CHECK(json.at("tokens").at("cached_input") == 180);
  CHECK(json.at("tokens").at("output") == 60);
}

TEST_CASE("Summary prices cache reads and writes at their own rates, per provider", "[output]") {
  Summary summary;
  // "primary" prices cache reads and writes; "backup" does not, so its cached tokens cost the
  // input price; "local" has no price, so once it has used tokens the cost is unknown.
  summary.set_prices({{"primary", llmeval::provider::Price{3.0, 15.0, 0.3, 3.75}},
                      {"backup", llmeval::provider::Price{3.0, 15.0, std::nullopt, std::nullopt}}});
  summary.add(judged(1, 5, true, 10,
                     {.input = 10'000, .output = 500, .cached_input = 8'000, .cache_write = 1'000, .reasoning = 200}));
  summary.add(judged(2, 5, true, 10, {.input = 2'000, .output = 100, .cached_input = 1'000}, "backup"));

  // primary, by hand:
  //   uncached input 10,000 - 8,000 - 1,000 = 1,000 x $3.00/M  = $0.003
  //   cache reads                     8,000 x $0.30/M  = $0.0024
  //   cache writes                    1,000 x $3.75/M  = $0.00375
  //   output (reasoning included)       500 x $15.00/M = $0.0075
  //                                                      $0.01665
  // backup: all 2,000 input at $3.00/M = $0.006, 100 output at $15.00/M = $0.0015: $0.0075.
  // Total $0.02415. (Without the cache prices primary would cost $0.0375.)
  REQUIRE(summary.cost());
  CHECK(*summary.cost() == Approx(0.02415).epsilon(1e-12));

  RunCounters counters;
  auto j = summary.to_json(counters, 1.0);
  CHECK(j["cost"].get<double>() == Approx(0.02415).epsilon(1e-12));
  CHECK(j["tokens"] ==
        nlohmann::json{
            {"input", 12'000}, {"output", 600}, {"cached_input", 9'000}, {"cache_write", 1'000}, {"reasoning", 200}});
  CHECK(summary.tokens() == 12'000 + 600);  // cache reads, writes and reasoning are not counted twice
  CHECK_THAT(summary.to_table(counters, 1.0),
             Catch::Contains("  tokens             in 12000 (cached 9000)  out 600\n"));
  CHECK(j["unpriced_providers"] == nlohmann::json::array());

  // A provider without a price, and a model the built-in table does not list: unknown, not $0.
  summary.add(judged(4, 5, true, 10, {.input = 0, .output = 0}, "local"));
  CHECK(summary.cost());  // it used no tokens yet
  summary.add(judged(3, 5, true, 10, {.input = 7, .output = 7, .cached_input = 7, .reasoning = 3}, "local"));
  CHECK_FALSE(summary.cost());
  j = summary.to_json(counters, 1.0);
  CHECK(j["cost"].is_null());
  CHECK(j["unpriced_providers"] == nlohmann::json::array({"local"}));
  CHECK_THAT(summary.to_table(counters, 1.0), Catch::Contains("  cost               unknown (no price for local;"));
}

TEST_CASE("Summary prices a provider without a configured price by its rows' model, from the built-in table",
          "[output][price]") {
  Summary summary;  // what report and merge do: no prices set
  auto row = judged(1, 5, true, 10, {.input = 1'000'000, .output = 1'000'000}, "anyname");
  row.criteria[0].judge->model = "gpt-4o-mini-2024-07-18";
  summary.add(row);
  auto price = llmeval::provider::table_price("gpt-4o-mini")->price;
  REQUIRE(summary.cost());
  CHECK(*summary.cost() == Approx(price.input_per_mtok + price.output_per_mtok));
}

TEST_CASE("Summary JSON always has every token count; the table names cached tokens only when there are some",
          "[output]") {
  Summary summary;
  summary.add(judged(1, 5, true, 10));
  auto j = summary.to_json({}, 1.0);
  CHECK(j["tokens"] ==
        nlohmann::json{{"input", 100}, {"output", 10}, {"cached_input", 0}, {"cache_write", 0}, {"reasoning", 0}});
  CHECK(j["cost"].is_null());
  const std::string table = summary.to_table({}, 1.0);
  CHECK_THAT(table, Catch::Contains("  tokens             in 100  out 10\n"));
  CHECK_THAT(table, !Catch::Contains("cached"));

  Summary empty;
  CHECK(empty.to_json({}, 1.0)["tokens"] ==
        nlohmann::json{{"input", 0}, {"output", 0}, {"cached_input", 0}, {"cache_write", 0}, {"reasoning", 0}});
}

TEST_CASE("Summary intervals: Wilson for pass rates, t or clustered by group for means, judge consistency",
          "[output][stats]") {
  Summary summary;
  // 10 judged rows, 7 pass. Rows 1-4 share group "doc-a", 5-6 "doc-b", the rest have none.
  for (int line = 1; line <= 10; ++line) {
    ResultRecord r = judged(line, line <= 7 ? 5 : 2, line <= 7, 10);
    r.criteria[0].normalized = line <= 7 ? 1.0 : 0.25;
    if (line <= 4) r.group = "doc-a";
    if (line == 5 || line == 6) r.group = 42;
    summary.add(r);
  }
  nlohmann::json j = summary.to_json({}, 1.0);
  // statsmodels.stats.proportion.proportion_confint(7, 10, alpha=0.05, method="wilson")
  // = (0.39677814746114537, 0.8922087325936989)
  CHECK(j["confidence"] == 0.95);
  CHECK(j["pass_rate_ci"][0].get<double>() == Approx(0.39677814746114537).epsilon(1e-12));
  CHECK(j["pass_rate_ci"][1].get<double>() == Approx(0.8922087325936989).epsilon(1e-12));
  CHECK(j["criteria"]["quality"]["pass_rate_ci"] == j["pass_rate_ci"]);
  CHECK(j["mean_score"].get<double>() == Approx(0.775));
  CHECK(j["ci_method"] == "clustered");
  CHECK(j["clusters"] == 6);  // doc-a, 42 and four rows of their own
  CHECK(j["criteria"]["quality"]["normalized_mean"].get<double>() == Approx(0.775));
  CHECK(j["criteria"]["quality"]["mean_ci"] == j["mean_ci"]);  // one criterion: the row score is its score
  CHECK_FALSE(j["criteria"]["quality"].contains("consistency"));

  summary.set_confidence(0.99);
  nlohmann::json wider = summary.to_json({}, 1.0);
  CHECK(wider["pass_rate_ci"][0].get<double>() < j["pass_rate_ci"][0].get<double>());
  CHECK_THAT(summary.to_table({}, 1.0), Catch::Contains("70.0%  (7 of 10 judged rows; 99% CI ["));
  CHECK_THAT(summary.to_table({}, 1.0), Catch::Contains(", clustered over 6 groups)"));

  // Repeated criteria: the mean within-row stddev and the rows whose samples disagree.
  Summary repeated;
  for (int line = 1; line <= 4; ++line) {
    ResultRecord r = judged(line, 4, true, 10);
    auto& c = r.criteria[0];
    const bool split = line == 4;  // one row: the samples disagree on pass/fail
    c.samples = {llmeval::output::Sample{4, true, "a", *c.judge},
                 llmeval::output::Sample{split ? 3.0 : 4.0, !split, "b", *c.judge}};
    c.stddev = split ? std::sqrt(0.5) : 0.0;
    repeated.add(r);
  }
  nlohmann::json consistency = repeated.to_json({}, 1.0)["criteria"]["quality"]["consistency"];
  CHECK(consistency["rows"] == 4);
  CHECK(consistency["mean_stddev"].get<double>() == Approx(std::sqrt(0.5) / 4));
  CHECK(consistency["disagreement"].get<double>() == Approx(0.25));
  CHECK(repeated.to_json({}, 1.0)["ci_method"] == "t");
  CHECK_THAT(repeated.to_table({}, 1.0), Catch::Contains("verdicts differ in 25.0% of 4 rows"));
}
