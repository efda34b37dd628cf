#include "core/report/paired_comparison.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "core/stats/sample_size.h"

namespace llmeval::report {
namespace {

constexpr const char* kNoDifference = "no significant difference";

std::string format(const char* pattern, double value) {
  char text[64];
  std::snprintf(text, sizeof text, pattern, value);
  return text;
}

std::string p_text(double p) { return p < 0.0001 ? "<0.0001" : format("%.4f", p); }

nlohmann::json interval_json(const stats::Interval& interval) {
  return nlohmann::json::array({interval.lo, interval.hi});
}

}  // namespace

void PairedComparison::add(const output::ResultRecord& candidate, const BaselineRow* baseline) {
  if (baseline == nullptr) {
    ++candidate_only_rows_;
    return;
  }
  if (candidate.status != output::Status::kOk || baseline->status != output::Status::kOk) {
    ++excluded_;
    return;
  }
  ++matched_;
  // Rows without a group are clusters of their own.
  std::size_t cluster = cluster_ids_.size();
  const std::string key = candidate.group.is_null() ? "line:" + std::to_string(candidate.line) : candidate.group.dump();
  auto [it, inserted] = cluster_ids_.try_emplace(key, cluster);
  if (!inserted) clustered_ = true;
  cluster = it->second;
  add_pair(rows_, baseline->pass, candidate.pass(), baseline->score, candidate.score(), cluster);
  for (const output::CriterionResult& now : candidate.criteria) {
    for (const BaselineRow::Criterion& before : baseline->criteria) {
      if (before.name != now.name) continue;
      add_pair(criteria_[now.name], before.pass, now.pass, before.normalized, now.normalized, cluster);
    }
  }
}

void PairedComparison::add_pair(Metric& metric, bool baseline_pass, bool candidate_pass, double baseline_score,
                                double candidate_score, std::size_t cluster) {
  ++metric.n;
  if (baseline_pass) ++metric.baseline_passed;
  if (candidate_pass) ++metric.candidate_passed;
  if (candidate_pass && !baseline_pass) ++metric.candidate_only;
  if (baseline_pass && !candidate_pass) ++metric.baseline_only;
  metric.baseline_scores.push_back(baseline_score);
  metric.candidate_scores.push_back(candidate_score);
  metric.clusters.push_back(cluster);
}

ComparisonLine PairedComparison::line_of(const std::string& name, const Metric& metric) const {
  ComparisonLine line;
  line.name = name;
  line.n = metric.n;
  const double n = static_cast<double>(metric.n);
  line.baseline_rate = static_cast<double>(metric.baseline_passed) / n;
  line.candidate_rate = static_cast<double>(metric.candidate_passed) / n;
  line.candidate_only = metric.candidate_only;
  line.baseline_only = metric.baseline_only;
  const double alpha = 1 - confidence_;
  if (auto pass = stats::paired_proportion_difference(static_cast<std::uint64_t>(metric.candidate_only),
                                                      static_cast<std::uint64_t>(metric.baseline_only),
                                                      static_cast<std::uint64_t>(metric.n), confidence_)) {
    line.pass = *pass;
    // A difference of two rates lies in [-1, 1]; the Wald interval can overshoot on few rows.
    line.pass.interval.lo = std::max(-1.0, line.pass.interval.lo);
    line.pass.interval.hi = std::min(1.0, line.pass.interval.hi);
  }
  line.verdict = line.pass.p_value < alpha ? (line.pass.difference > 0 ? "better" : "worse") : kNoDifference;
  double baseline_sum = 0, candidate_sum = 0;
  for (double v : metric.baseline_scores) baseline_sum += v;
  for (double v : metric.candidate_scores) candidate_sum += v;
  line.baseline_mean = baseline_sum / n;
  line.candidate_mean = candidate_sum / n;
  line.mean = clustered_ ? stats::clustered_paired_difference(metric.candidate_scores, metric.baseline_scores,
                                                              metric.clusters, confidence_)
                         : stats::paired_t_test(metric.candidate_scores, metric.baseline_scores, confidence_);
  line.mean_verdict = kNoDifference;
  if (line.mean && line.mean->p_value < alpha) line.mean_verdict = line.mean->mean_difference > 0 ? "better" : "worse";
  if (line.mean && line.mean_verdict == kNoDifference && line.mean->mean_difference != 0) {
    // The per-row differences' spread, from the standard error of their mean.
    line.mean_rows_needed = stats::paired_means_sample_size(
        line.mean->mean_difference, line.mean->standard_error * std::sqrt(static_cast<double>(line.mean->n)),
        confidence_);
  }
  if (line.verdict == kNoDifference && metric.candidate_only != metric.baseline_only) {
    line.rows_needed = stats::paired_proportions_sample_size(
        static_cast<double>(metric.candidate_only + metric.baseline_only) / n, line.pass.difference, confidence_);
  }
  return line;
}

std::vector<ComparisonLine> PairedComparison::lines() const {
  std::vector<ComparisonLine> lines;
  if (rows_.n == 0) return lines;
  lines.push_back(line_of("rows", rows_));
  for (const auto& [name, metric] : criteria_) lines.push_back(line_of(name, metric));
  return lines;
}

bool PairedComparison::any_worse() const {
  for (const auto& line : lines()) {
    if (line.verdict == "worse") return true;
  }
  return false;
}

bool PairedComparison::any_significant() const {
  for (const auto& line : lines()) {
    if (line.verdict != kNoDifference || line.mean_verdict != kNoDifference) return true;
  }
  return false;
}

nlohmann::json PairedComparison::to_json() const {
  nlohmann::json out_lines = nlohmann::json::array();
  for (const auto& line : lines()) {
    nlohmann::json mean = nullptr;
    if (line.mean) {
      mean = {{"baseline", line.baseline_mean},
              {"candidate", line.candidate_mean},
              {"difference", line.mean->mean_difference},
              {"difference_ci", interval_json(line.mean->interval)},
              {"p_value", line.mean->p_value},
              {"method", clustered_ ? "clustered" : "paired_t"},
              {"verdict", line.mean_verdict},
              {"rows_needed",
               line.mean_rows_needed ? nlohmann::json(std::ceil(*line.mean_rows_needed)) : nlohmann::json(nullptr)}};
    }
    out_lines.push_back(
        {{"name", line.name},
         {"n", line.n},
         {"baseline_pass_rate", line.baseline_rate},
         {"candidate_pass_rate", line.candidate_rate},
         {"difference", line.pass.difference},
         {"difference_ci", interval_json(line.pass.interval)},
         {"candidate_only", line.candidate_only},
         {"baseline_only", line.baseline_only},
         {"p_value", line.pass.p_value},
         {"verdict", line.verdict},
         {"mean", mean},
         {"rows_needed", line.rows_needed ? nlohmann::json(std::ceil(*line.rows_needed)) : nlohmann::json(nullptr)}});
  }
  return {{"confidence", confidence_},
          {"matched", matched_},
          {"excluded", excluded_},
          {"only_in_baseline", baseline_only_},
          {"only_in_candidate", candidate_only_rows_},
          {"lines", out_lines},
          {"regression", any_worse()}};
}

std::string PairedComparison::to_table() const {
  const std::string level = format(confidence_ * 100 == std::floor(confidence_ * 100) ? "%.0f%%" : "%.1f%%",
                                   confidence_ * 100);
  std::string out = "rows: " + std::to_string(matched_) + " matched and judged in both, " + std::to_string(excluded_) +
                    " excluded (error or invalid in one), " + std::to_string(baseline_only_) +
                    " only in the baseline, " + std::to_string(candidate_only_rows_) + " only in the candidate\n";
  char head[256];
  std::snprintf(head, sizeof head, "  %-20s %9s %9s %28s %9s  %s\n", "pass rate", "baseline", "candidate",
                ("difference [" + level + " CI]").c_str(), "p", "verdict");
  out += head;
  const auto all = lines();
  for (const auto& line : all) {
    std::string diff = format("%+.1f", line.pass.difference * 100) + " [" +
                       format("%+.1f", line.pass.interval.lo * 100) + ", " +
                       format("%+.1f", line.pass.interval.hi * 100) + "] pts";
    std::string verdict = line.verdict;
    if (line.rows_needed) verdict += format(" (~%.0f rows would show it)", std::ceil(*line.rows_needed));
    char row[512];
    std::snprintf(row, sizeof row, "  %-20s %8.1f%% %8.1f%% %28s %9s  %s\n", line.name.substr(0, 20).c_str(),
                  line.baseline_rate * 100, line.candidate_rate * 100, diff.c_str(), p_text(line.pass.p_value).c_str(),
                  verdict.c_str());
    out += row;
  }
  std::snprintf(head, sizeof head, "  %-20s %9s %9s %28s %9s  %s\n", "mean score", "baseline", "candidate",
                ("difference [" + level + " CI]").c_str(), "p", clustered_ ? "verdict (clustered)" : "verdict");
  out += head;
  for (const auto& line : all) {
    if (!line.mean) continue;
    std::string diff = format("%+.3f", line.mean->mean_difference) + " [" + format("%+.3f", line.mean->interval.lo) +
                       ", " + format("%+.3f", line.mean->interval.hi) + "]";
    std::string verdict = line.mean_verdict;
    if (line.mean_rows_needed) verdict += format(" (~%.0f rows would show it)", std::ceil(*line.mean_rows_needed));
    char row[512];
    std::snprintf(row, sizeof row, "  %-20s %9.3f %9.3f %28s %9s  %s\n", line.name.substr(0, 20).c_str(),
                  line.baseline_mean, line.candidate_mean, diff.c_str(), p_text(line.mean->p_value).c_str(),
                  verdict.c_str());
    out += row;
  }
  out += "p: pass rates by McNemar's exact test, means by the paired " +
         std::string(clustered_ ? "difference with errors clustered by group" : "t test") + "; significant when p < " +
         format("%.3g", 1 - confidence_) + " (docs/statistics.md)\n";
  return out;
}

}  // namespace llmeval::report
