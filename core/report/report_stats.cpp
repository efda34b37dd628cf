#include "core/report/report_stats.h"

#include <algorithm>
#include <cmath>

#include "core/report/html_text.h"

namespace llmeval::report {
namespace {

std::size_t decile(double normalized) {
  return static_cast<std::size_t>(std::clamp(normalized * 10, 0.0, 9.0));  // 1.0 falls in the last bin
}

std::string decile_label(std::size_t bin) { return format_decimal(static_cast<double>(bin) / 10, 1); }

std::string latency_label(std::int64_t ms) {
  return ms < 1000 ? std::to_string(ms) : format_decimal(static_cast<double>(ms) / 1000, 1) + "s";
}

}  // namespace

void ScoreDistribution::add(double score, double normalized, bool pass) {
  Bucket& bin = normalized_bins_[decile(normalized)];
  ++bin.count;
  bin.passed += pass ? 1 : 0;
  if (by_score_overflowed_) return;
  if (score != std::floor(score) || (by_score_.size() == kMaxDistinct && by_score_.count(score) == 0)) {
    by_score_overflowed_ = true;
    by_score_.clear();
    return;
  }
  Bucket& value = by_score_[score];
  ++value.count;
  value.passed += pass ? 1 : 0;
  value.normalized = normalized;
}

std::pair<double, double> ScoreDistribution::scale_range() const {
  // docs/formats.md §2's scales; binary first, so checks' 0/1 are not taken for a 1-5 scale.
  constexpr std::pair<double, double> kScales[] = {{0, 1}, {1, 5}, {1, 10}};
  for (const auto& [low, high] : kScales) {
    bool fits = true;
    for (const auto& [score, bucket] : by_score_) {
      fits = fits && score >= low && score <= high && std::abs(bucket.normalized - (score - low) / (high - low)) < 1e-6;
    }
    if (fits) return {low, high};
  }
  return {by_score_.begin()->first, by_score_.rbegin()->first};
}

std::vector<Bar> ScoreDistribution::bars() const {
  // A bucket is coloured by the verdict most of its scores got (one criterion's threshold
  // makes that all of them, unless rows set different thresholds).
  auto bar = [](std::string label, const Bucket& bucket, const std::string& what) {
    Bar out{std::move(label), bucket.count, bucket.passed * 2 >= bucket.count ? "pass" : "fail", ""};
    out.tooltip = what + ": " + format_count(bucket.count) + (bucket.count == 1 ? " row" : " rows") + ", " +
                  format_count(bucket.passed) + " passed";
    return out;
  };
  std::vector<Bar> bars;
  if (!by_score_overflowed_ && !by_score_.empty()) {
    // Every integer of the scale gets a bar, empty ones too, so gaps in the scale show.
    const auto [low, high] = scale_range();
    if (high - low < static_cast<double>(kMaxDistinct)) {
      for (double score = low; score <= high; score += 1) {
        auto it = by_score_.find(score);
        std::string label = format_decimal(score, 0);
        bars.push_back(bar(label, it == by_score_.end() ? Bucket{} : it->second, "score " + label));
      }
      return bars;
    }
    for (const auto& [score, bucket] : by_score_) {
      std::string label = format_decimal(score, 0);
      bars.push_back(bar(label, bucket, "score " + label));
    }
    return bars;
  }
  for (std::size_t i = 0; i < normalized_bins_.size(); ++i) {
    bars.push_back(bar(decile_label(i), normalized_bins_[i],
                       "normalized " + decile_label(i) + "–" + decile_label(i + 1)));
  }
  return bars;
}

void ReportStats::add(const output::ResultRecord& record) {
  bool fallback = false;
  for (const output::CriterionResult& criterion : record.criteria) {
    auto [it, inserted] = scores_.try_emplace(criterion.name);
    if (inserted) criterion_order_.push_back(criterion.name);
    it->second.add(criterion.score, criterion.normalized, criterion.pass);
    const auto count_judge = [&](const output::JudgeInfo& judge) {
      JudgeStats& stats = judges_[{judge.provider, judge.model}];
      ++stats.judged;
      stats.as_fallback += judge.fallback ? 1 : 0;
      stats.attempts += judge.attempts;
      stats.latency_ms_sum += judge.latency_ms;
      stats.tokens_in += judge.tokens.input;
      stats.tokens_out += judge.tokens.output;
      fallback = fallback || judge.fallback;
      ++llm_calls_;
      const auto bound = std::upper_bound(kLatencyBoundsMs.begin(), kLatencyBoundsMs.end(), judge.latency_ms);
      ++latency_counts_[static_cast<std::size_t>(bound - kLatencyBoundsMs.begin())];
    };
    // A --jury criterion has no judge of its own: each juror that scored it counts for itself
    // (as in the Summary; one that abstained made no call we know of).
    if (!criterion.jury.empty()) {
      for (const output::JurorVerdict& juror : criterion.jury) {
        if (juror.score) count_judge(juror.judge);
      }
    } else if (criterion.judge) {
      count_judge(*criterion.judge);
    }
  }
  rows_with_fallback_ += fallback ? 1 : 0;
  if (record.status == output::Status::kOk) {
    const double score = record.score();
    row_score_sum_ += score;
    ++row_score_bins_[decile(score)];
  }
}

std::vector<Bar> ReportStats::latency_bars() const {
  std::vector<Bar> bars;
  for (std::size_t i = 0; i < latency_counts_.size(); ++i) {
    const bool last = i == kLatencyBoundsMs.size();
    std::string label = last ? ">" + latency_label(kLatencyBoundsMs.back()) : "<" + latency_label(kLatencyBoundsMs[i]);
    std::string range = last ? "over " + format_ms(static_cast<double>(kLatencyBoundsMs.back()))
                             : (i == 0 ? "0" : format_ms(static_cast<double>(kLatencyBoundsMs[i - 1]))) + " to " +
                                   format_ms(static_cast<double>(kLatencyBoundsMs[i]));
    bars.push_back(Bar{label, latency_counts_[i], "", range + ": " + format_count(latency_counts_[i]) + " calls"});
  }
  return bars;
}

std::vector<Bar> ReportStats::row_score_bars() const {
  std::vector<Bar> bars;
  for (std::size_t i = 0; i < row_score_bins_.size(); ++i) {
    bars.push_back(Bar{decile_label(i), row_score_bins_[i], "",
                       "score " + decile_label(i) + "–" + decile_label(i + 1) + ": " +
                           format_count(row_score_bins_[i]) + " rows"});
  }
  return bars;
}

}  // namespace llmeval::report
