// ReportStats: what the HTML report's charts need beyond the docs/formats.md §4 Summary, gathered in one
// streaming pass over a results file in memory bounded by the number of criteria and
// providers: each criterion's score distribution, judge latencies, and who judged what.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "core/output/result_record.h"
#include "core/report/svg_chart.h"

namespace llmeval::report {

// The scores one criterion was given. Integer scores are shown value by value over the whole
// scale (1-5, 1-10, or 0-1 for binary criteria and checks, recognised from how scores map to
// normalized ones), so unused scores show as gaps; anything else, or more than kMaxDistinct
// values, in ten bins of the normalized score.
class ScoreDistribution {
 public:
  static constexpr std::size_t kMaxDistinct = 11;

  void add(double score, double normalized, bool pass);
  std::vector<Bar> bars() const;

 private:
  struct Bucket {
    std::int64_t count = 0;
    std::int64_t passed = 0;
    double normalized = 0;  // of this score (the same for every row of one scale)
  };
  // The scale range all scores fit, else the range of the scores seen.
  std::pair<double, double> scale_range() const;
  std::map<double, Bucket> by_score_;  // cleared when the scores stop fitting
  bool by_score_overflowed_ = false;
  std::array<Bucket, 10> normalized_bins_{};
};

struct JudgeStats {
  std::int64_t judged = 0;          // LLM criteria this provider/model scored (as a juror too)
  std::int64_t as_fallback = 0;     // of which as a fallback
  std::int64_t attempts = 0;        // provider calls, retries and repairs included
  std::int64_t latency_ms_sum = 0;  // of the successful calls
  std::int64_t tokens_in = 0, tokens_out = 0;
};

class ReportStats {
 public:
  // Upper bounds of the latency buckets, in ms; the last bucket is everything above.
  static constexpr std::array<std::int64_t, 9> kLatencyBoundsMs = {100, 250, 500, 1000, 2000, 5000, 10000, 30000, 60000};

  void add(const output::ResultRecord& record);

  // Criterion names in first-seen order (the order rows list them in), for table columns.
  const std::vector<std::string>& criterion_order() const { return criterion_order_; }
  const std::map<std::string, ScoreDistribution>& scores() const { return scores_; }
  const std::map<std::pair<std::string, std::string>, JudgeStats>& judges() const { return judges_; }
  std::vector<Bar> latency_bars() const;
  std::vector<Bar> row_score_bars() const;
  std::int64_t llm_calls() const { return llm_calls_; }
  std::int64_t rows_with_fallback() const { return rows_with_fallback_; }
  // Sum of `score` over judged rows, for the mean row score.
  double row_score_sum() const { return row_score_sum_; }

 private:
  std::vector<std::string> criterion_order_;
  std::map<std::string, ScoreDistribution> scores_;
  std::map<std::pair<std::string, std::string>, JudgeStats> judges_;  // (provider, model)
  std::array<std::int64_t, kLatencyBoundsMs.size() + 1> latency_counts_{};
  std::array<std::int64_t, 10> row_score_bins_{};
  std::int64_t llm_calls_ = 0;
  std::int64_t rows_with_fallback_ = 0;
  double row_score_sum_ = 0;
};

}  // namespace llmeval::report
