#include "core/stats/sample_size.h"

#include <cmath>

#include "core/stats/distributions.h"

namespace llmeval::stats {

namespace {

bool in_open_unit_interval(double p) { return p > 0 && p < 1; }

}  // namespace

std::optional<double> paired_proportions_sample_size(double discordant_share, double difference, double confidence,
                                                     double power) {
  if (!in_open_unit_interval(confidence) || !in_open_unit_interval(power)) return std::nullopt;
  if (!std::isfinite(difference) || difference == 0 || !(discordant_share <= 1) ||
      !(std::fabs(difference) <= discordant_share)) {
    return std::nullopt;
  }
  double z_alpha = *normal_quantile((1 + confidence) / 2);
  double z_power = *normal_quantile(power);
  double d2 = difference * difference;
  double root = z_alpha * std::sqrt(discordant_share) + z_power * std::sqrt(discordant_share - d2);
  return root * root / d2;
}

std::optional<double> paired_means_sample_size(double difference, double sd_difference, double confidence,
                                               double power) {
  if (!in_open_unit_interval(confidence) || !in_open_unit_interval(power)) return std::nullopt;
  if (!std::isfinite(difference) || difference == 0 || !std::isfinite(sd_difference) || sd_difference < 0) {
    return std::nullopt;
  }
  double z_sum = *normal_quantile((1 + confidence) / 2) + *normal_quantile(power);
  double root = z_sum * sd_difference / difference;
  return root * root;
}

}  // namespace llmeval::stats
