// PairedComparison's verdicts on simulated runs (seeded): two runs of one judge on the same rows
// differ only by chance, and the comparison must say so; a real 5-point improvement must be seen.
// Also the counts and the clustered variant on a small hand-made example.
#include "core/report/paired_comparison.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

namespace {

using llmeval::output::CriterionResult;
using llmeval::output::ResultRecord;
using llmeval::output::Status;
using llmeval::report::BaselineRow;
using llmeval::report::PairedComparison;

// One row judged on one criterion, "quality", in both runs; set() gives it its two verdicts.
struct RowPair {
  ResultRecord candidate;
  BaselineRow baseline;
  RowPair() {
    candidate.status = Status::kOk;
    CriterionResult c;
    c.name = "quality";
    candidate.criteria.push_back(c);
    baseline.criteria.push_back({"quality", 0, false});
  }
  void set(std::int64_t line, bool before, bool now) {
    candidate.line = line;
    candidate.criteria[0].pass = now;
    candidate.criteria[0].normalized = now ? 1.0 : 0.0;
    baseline.pass = before;
    baseline.score = before ? 1.0 : 0.0;
    baseline.criteria[0].pass = before;
    baseline.criteria[0].normalized = baseline.score;
  }
};

// One run pair on `rows` rows whose pass probabilities are p[i] (baseline) and p[i] + lift
// (candidate), drawn independently: the verdict of the row pass-rate line.
std::string verdict_of_simulated_pair(std::mt19937_64& random, const std::vector<double>& p, double lift) {
  PairedComparison comparison(0.95);
  RowPair row;
  std::uniform_real_distribution<double> uniform(0.0, 1.0);
  for (std::size_t i = 0; i < p.size(); ++i) {
    const bool before = uniform(random) < p[i];
    const bool now = uniform(random) < std::min(1.0, p[i] + lift);
    row.set(static_cast<std::int64_t>(i + 1), before, now);
    comparison.add(row.candidate, &row.baseline);
  }
  return comparison.lines().at(0).verdict;
}

std::vector<double> row_difficulties(std::mt19937_64& random, std::size_t rows) {
  std::uniform_real_distribution<double> difficulty(0.2, 0.85);
  std::vector<double> p(rows);
  for (double& x : p) x = difficulty(random);
  return p;
}

}  // namespace

TEST_CASE("compare: two runs of the same judge differ significantly in at most 6% of pairs at 95%",
          "[report][compare][simulation]") {
  std::mt19937_64 random(20261207);
  const std::vector<double> p = row_difficulties(random, 400);
  int significant = 0;
  const int pairs = 1000;
  for (int pair = 0; pair < pairs; ++pair) {
    if (verdict_of_simulated_pair(random, p, 0.0) != "no significant difference") ++significant;
  }
  INFO(significant << " of " << pairs << " pairs called better or worse");
  CHECK(significant <= pairs * 6 / 100);
}

TEST_CASE("compare: a true 5-point pass-rate gain on 2,000 rows is found in at least 80% of pairs",
          "[report][compare][simulation]") {
  std::mt19937_64 random(7);
  const std::vector<double> p = row_difficulties(random, 2000);
  int found = 0;
  const int pairs = 300;
  for (int pair = 0; pair < pairs; ++pair) {
    if (verdict_of_simulated_pair(random, p, 0.05) == "better") ++found;
  }
  INFO(found << " of " << pairs << " pairs called better");
  CHECK(found >= pairs * 80 / 100);
}

TEST_CASE("compare: counts matched, excluded and unmatched rows, and clusters by group", "[report][compare]") {
  PairedComparison comparison(0.95);
  RowPair row;
  ResultRecord& candidate = row.candidate;
  BaselineRow& baseline = row.baseline;
  for (int line = 1; line <= 6; ++line) {
    row.set(line, false, true);
    candidate.group = line <= 3 ? nlohmann::json("doc") : nlohmann::json();
    comparison.add(candidate, &baseline);
  }
  comparison.add(candidate, nullptr);  // only in the candidate
  baseline.status = Status::kError;
  comparison.add(candidate, &baseline);  // excluded
  comparison.set_baseline_only(2);
  nlohmann::json j = comparison.to_json();
  CHECK(j["matched"] == 6);
  CHECK(j["excluded"] == 1);
  CHECK(j["only_in_candidate"] == 1);
  CHECK(j["only_in_baseline"] == 2);
  const nlohmann::json& rows = j["lines"][0];
  CHECK(rows["name"] == "rows");
  CHECK(rows["candidate_only"] == 6);
  CHECK(rows["difference"] == 1.0);
  // 6 discordant rows all one way: p = 2 * 0.5^6 = 0.03125 (exact binomial).
  CHECK(rows["p_value"].get<double>() == Approx(0.03125).epsilon(1e-12));
  CHECK(rows["verdict"] == "better");
  CHECK(rows["mean"]["method"] == "clustered");  // rows 1-3 share a group
  CHECK(j["lines"][1]["name"] == "quality");
  CHECK_FALSE(comparison.any_worse());
  CHECK(comparison.any_significant());
}

TEST_CASE("compare: a difference that is not significant comes with the rows that would show it", "[report][compare]") {
  PairedComparison comparison(0.95);
  RowPair row;
  // 100 rows: 6 pass only in the candidate, 3 only in the baseline, the rest agree.
  for (int line = 1; line <= 100; ++line) {
    const bool now = line <= 6 || line > 9;
    const bool before = (line >= 7 && line <= 9) || line > 9;
    row.set(line, before, now);
    comparison.add(row.candidate, &row.baseline);
  }
  const auto line = comparison.lines().at(0);
  CHECK(line.verdict == "no significant difference");
  // Exact McNemar: 2 * P(X <= 3), X ~ Bin(9, 1/2) = 2 * 130 / 512.
  CHECK(line.pass.p_value == Approx(260.0 / 512).epsilon(1e-12));
  // Connor: p_disc 0.09, d 0.03: ((1.959964 * 0.3) + 0.841621 * sqrt(0.09 - 0.0009))^2 / 0.0009
  REQUIRE(line.rows_needed);
  CHECK(*line.rows_needed ==
        Approx(std::pow(1.959963984540054 * 0.3 + 0.8416212335729143 * std::sqrt(0.0891), 2) / 0.0009).epsilon(1e-9));
  CHECK(comparison.to_table().find("rows would show it") != std::string::npos);
}
