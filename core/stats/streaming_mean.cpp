#include "core/stats/streaming_mean.h"

#include <algorithm>
#include <cmath>

#include "core/stats/distributions.h"

namespace llmeval::stats {

void StreamingMean::add(double value, const std::string& cluster) {
  ++n_;
  const double delta = value - mean_;
  mean_ += delta / static_cast<double>(n_);
  m2_ += delta * (value - mean_);
  if (cluster.empty()) {
    ++singletons_;
    return;
  }
  Cluster& c = clusters_[cluster];
  c.sum += value;
  c.sum_squares += value * value;
  ++c.count;
}

std::optional<double> StreamingMean::mean() const {
  if (n_ == 0) return std::nullopt;
  return mean_;
}

bool StreamingMean::clustered() const {
  for (const auto& [key, c] : clusters_) {
    if (c.count > 1) return true;
  }
  return false;
}

std::optional<MeanEstimate> StreamingMean::interval(double confidence) const {
  if (n_ < 2 || !(confidence > 0 && confidence < 1)) return std::nullopt;
  const double n = static_cast<double>(n_);
  const double variance = m2_ / (n - 1);
  MeanEstimate estimate;
  estimate.mean = mean_;
  estimate.n = n_;
  if (!clustered()) {
    auto t = student_t_quantile((1 + confidence) / 2, n - 1);
    if (!t) return std::nullopt;
    estimate.standard_error = std::sqrt(variance / n);
    estimate.degrees_of_freedom = n - 1;
    estimate.clusters = n_;
    estimate.interval = {mean_ - *t * estimate.standard_error, mean_ + *t * estimate.standard_error};
    return estimate;
  }
  const std::size_t clusters = singletons_ + clusters_.size();
  if (clusters < 2) return std::nullopt;
  double cross = 0;  // sum over clusters of sum_{i != j} (s_i - m)(s_j - m)
  for (const auto& [key, c] : clusters_) {
    const double count = static_cast<double>(c.count);
    const double centred_sum = c.sum - count * mean_;
    const double centred_squares = c.sum_squares - 2 * mean_ * c.sum + count * mean_ * mean_;
    cross += centred_sum * centred_sum - centred_squares;
  }
  const double se_squared = variance / n + cross / (n * n);
  auto z = normal_quantile((1 + confidence) / 2);
  if (!z) return std::nullopt;
  estimate.standard_error = std::sqrt(std::max(0.0, se_squared));
  estimate.degrees_of_freedom = INFINITY;
  estimate.clusters = clusters;
  estimate.interval = {mean_ - *z * estimate.standard_error, mean_ + *z * estimate.standard_error};
  return estimate;
}

}  // namespace llmeval::stats
