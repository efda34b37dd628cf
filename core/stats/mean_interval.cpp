#include "core/stats/mean_interval.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numbers>
#include <unordered_map>
#include <vector>

#include "core/stats/distributions.h"

namespace llmeval::stats {

namespace {

constexpr double kInfinity = std::numeric_limits<double>::infinity();

bool valid_confidence(double confidence) { return confidence > 0 && confidence < 1; }

bool all_finite(std::span<const double> values) {
  return std::all_of(values.begin(), values.end(), [](double v) { return std::isfinite(v); });
}

double mean_of(std::span<const double> values) {
  double sum = 0;
  for (double v : values) sum += v;
  return sum / static_cast<double>(values.size());
}

// Per cluster, the sum of the residuals (S_c) and the sum of their squares (Q_c).
struct ClusterSums {
  double residual_sum = 0;
  double residual_squares = 0;
};

// The clustered pieces of values around `mean`: sum_c S_c^2 (the full triple sum of Miller's
// §4.2 and Appendix A), sum_c (S_c^2 - Q_c) (the j != i cross terms of Eq. 4, taken per cluster
// so that a singleton cluster contributes exactly 0), and the number of clusters.
struct ClusteredSums {
  double full = 0;
  double cross = 0;
  std::size_t clusters = 0;
};

ClusteredSums clustered_sums(std::span<const double> values, std::span<const std::size_t> cluster_of, double mean) {
  std::unordered_map<std::size_t, ClusterSums> by_cluster;
  for (std::size_t i = 0; i < values.size(); ++i) {
    double residual = values[i] - mean;
    ClusterSums& sums = by_cluster[cluster_of[i]];
    sums.residual_sum += residual;
    sums.residual_squares += residual * residual;
  }
  ClusteredSums result;
  result.clusters = by_cluster.size();
  for (const auto& [id, sums] : by_cluster) {
    double square = sums.residual_sum * sums.residual_sum;
    result.full += square;
    result.cross += square - sums.residual_squares;
  }
  return result;
}

double sum_of_squares(std::span<const double> values, double mean) {
  double sum = 0;
  for (double v : values) sum += (v - mean) * (v - mean);
  return sum;
}

std::optional<std::vector<double>> differences(std::span<const double> candidate, std::span<const double> baseline) {
  if (candidate.size() != baseline.size() || !all_finite(candidate) || !all_finite(baseline)) return std::nullopt;
  std::vector<double> d(candidate.size());
  for (std::size_t i = 0; i < d.size(); ++i) d[i] = candidate[i] - baseline[i];
  return d;
}

}  // namespace

std::optional<MeanEstimate> mean_t_interval(std::span<const double> values, double confidence) {
  if (values.size() < 2 || !valid_confidence(confidence) || !all_finite(values)) return std::nullopt;
  double n = static_cast<double>(values.size());
  MeanEstimate estimate;
  estimate.n = values.size();
  estimate.clusters = values.size();
  estimate.mean = mean_of(values);
  estimate.standard_error = std::sqrt(sum_of_squares(values, estimate.mean) / (n - 1) / n);
  estimate.degrees_of_freedom = n - 1;
  double t = *student_t_quantile((1 + confidence) / 2, estimate.degrees_of_freedom);
  estimate.interval = {estimate.mean - t * estimate.standard_error, estimate.mean + t * estimate.standard_error};
  return estimate;
}

std::optional<MeanEstimate> clustered_mean_interval(std::span<const double> values,
                                                    std::span<const std::size_t> cluster_of, double confidence) {
  if (values.size() < 2 || values.size() != cluster_of.size() || !valid_confidence(confidence) || !all_finite(values)) {
    return std::nullopt;
  }
  double n = static_cast<double>(values.size());
  double mean = mean_of(values);
  ClusteredSums sums = clustered_sums(values, cluster_of, mean);
  if (sums.clusters < 2) return std::nullopt;
  double se_clt_squared = sum_of_squares(values, mean) / (n - 1) / n;  // Eq. 1, squared
  double variance = se_clt_squared + sums.cross / (n * n);             // Eq. 4, squared
  MeanEstimate estimate;
  estimate.n = values.size();
  estimate.clusters = sums.clusters;
  estimate.mean = mean;
  estimate.standard_error = std::sqrt(std::max(0.0, variance));
  estimate.degrees_of_freedom = kInfinity;
  double z = *normal_quantile((1 + confidence) / 2);
  estimate.interval = {mean - z * estimate.standard_error, mean + z * estimate.standard_error};
  return estimate;
}

std::optional<PairedDifference> paired_t_test(std::span<const double> candidate, std::span<const double> baseline,
                                              double confidence) {
  auto d = differences(candidate, baseline);
  if (!d || d->size() < 2 || !valid_confidence(confidence)) return std::nullopt;
  auto estimate = mean_t_interval(*d, confidence);
  if (!estimate) return std::nullopt;
  PairedDifference result;
  result.mean_difference = estimate->mean;
  result.standard_error = estimate->standard_error;
  result.degrees_of_freedom = estimate->degrees_of_freedom;
  result.n = estimate->n;
  result.clusters = estimate->clusters;
  result.interval = estimate->interval;
  if (result.standard_error > 0) {
    result.statistic = result.mean_difference / result.standard_error;
    result.p_value = *student_t_two_sided_p(result.statistic, result.degrees_of_freedom);
  } else if (result.mean_difference != 0) {
    result.statistic = std::copysign(kInfinity, result.mean_difference);
    result.p_value = 0;
  }
  return result;
}

std::optional<PairedDifference> clustered_paired_difference(std::span<const double> candidate,
                                                            std::span<const double> baseline,
                                                            std::span<const std::size_t> cluster_of,
                                                            double confidence) {
  auto d = differences(candidate, baseline);
  if (!d || d->size() < 2 || d->size() != cluster_of.size() || !valid_confidence(confidence)) return std::nullopt;
  double n = static_cast<double>(d->size());
  double mean = mean_of(*d);
  ClusteredSums sums = clustered_sums(*d, cluster_of, mean);
  if (sums.clusters < 2) return std::nullopt;
  PairedDifference result;
  result.mean_difference = mean;
  result.standard_error = std::sqrt(sums.full) / n;
  result.degrees_of_freedom = kInfinity;
  result.n = d->size();
  result.clusters = sums.clusters;
  double z = *normal_quantile((1 + confidence) / 2);
  result.interval = {mean - z * result.standard_error, mean + z * result.standard_error};
  if (result.standard_error > 0) {
    result.statistic = mean / result.standard_error;
    result.p_value = std::erfc(std::fabs(result.statistic) / std::numbers::sqrt2);
  } else if (mean != 0) {
    result.statistic = std::copysign(kInfinity, mean);
    result.p_value = 0;
  }
  return result;
}

}  // namespace llmeval::stats
