// PairedComparison: is a candidate run better than its baseline, or is the difference noise?
// (`llmeval compare`, `report --compare`; docs/statistics.md.) Rows are matched by id as in
// RunComparison; only rows judged (status ok) in both runs are compared. For the row pass rate
// and each criterion present in both runs:
//   - pass rates: both rates, their paired difference with its Wald interval (clipped to [-1, 1]),
//     and McNemar's exact test on the discordant rows; the line's verdict (better, worse, no
//     significant difference)
//     comes from this test, so a gate on it fires on noise at most 1 - confidence of the time;
//   - mean scores (row score, criterion normalized score, 0..1): the paired difference with a
//     paired t-interval, or clustered by the rows' group when rows share one, and its p-value;
//   - when the pass rates differ but not significantly: about how many rows would detect the
//     observed difference with 80% power (stats/sample_size.h).
// Memory: two numbers (and a cluster index) per matched row and metric. Not thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/output/result_record.h"
#include "core/report/run_comparison.h"
#include "core/stats/mean_interval.h"
#include "core/stats/proportion.h"

namespace llmeval::report {

struct ComparisonLine {
  std::string name;  // "rows" for the row verdict, else the criterion's name
  std::int64_t n = 0;
  double baseline_rate = 0, candidate_rate = 0;
  stats::PairedProportionDifference pass;              // candidate - baseline
  std::int64_t candidate_only = 0, baseline_only = 0;  // discordant rows: passed in one run only
  std::optional<stats::PairedDifference> mean;         // of the scores (0..1); nullopt with < 2 rows
  double baseline_mean = 0, candidate_mean = 0;
  std::string verdict;                     // "better", "worse" or "no significant difference"
  std::string mean_verdict;                // the same, for the mean score
  std::optional<double> rows_needed;       // no significant pass-rate difference: rows for 80% power
  std::optional<double> mean_rows_needed;  // the same for the mean score's difference
};

class PairedComparison {
 public:
  explicit PairedComparison(double confidence) : confidence_(confidence) {}

  // One row of the candidate run and its baseline row (null: not in the baseline).
  void add(const output::ResultRecord& candidate, const BaselineRow* baseline);
  // After every candidate row: baseline rows the candidate run does not have.
  void set_baseline_only(std::int64_t rows) { baseline_only_ = rows; }

  std::vector<ComparisonLine> lines() const;  // rows first, then criteria by name
  bool any_worse() const;                     // a pass-rate verdict is `worse`
  bool any_significant() const;               // any verdict, pass rate or mean, is not `no significant difference`
  nlohmann::json to_json() const;
  std::string to_table() const;

  std::int64_t matched() const { return matched_; }

 private:
  struct Metric {
    std::int64_t n = 0, baseline_passed = 0, candidate_passed = 0, candidate_only = 0, baseline_only = 0;
    std::vector<double> baseline_scores, candidate_scores;
    std::vector<std::size_t> clusters;
  };
  void add_pair(Metric& metric, bool baseline_pass, bool candidate_pass, double baseline_score, double candidate_score,
                std::size_t cluster);
  ComparisonLine line_of(const std::string& name, const Metric& metric) const;

  double confidence_;
  Metric rows_;
  std::map<std::string, Metric> criteria_;
  std::unordered_map<std::string, std::size_t> cluster_ids_;
  bool clustered_ = false;  // some group holds more than one matched row
  std::int64_t matched_ = 0, excluded_ = 0, candidate_only_rows_ = 0, baseline_only_ = 0;
};

}  // namespace llmeval::report
