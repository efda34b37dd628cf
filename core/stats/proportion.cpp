#include "core/stats/proportion.h"

#include <algorithm>
#include <cmath>

#include "core/stats/distributions.h"

namespace llmeval::stats {

namespace {

// z_{1 - alpha/2} for a two-sided confidence level, or nullopt when the level is not in (0, 1).
std::optional<double> two_sided_z(double confidence) {
  if (!(confidence > 0 && confidence < 1)) return std::nullopt;
  return normal_quantile((1 + confidence) / 2);
}

}  // namespace

std::optional<Interval> wilson_interval(std::uint64_t successes, std::uint64_t n, double confidence) {
  auto z = two_sided_z(confidence);
  if (!z || n == 0 || successes > n) return std::nullopt;
  double k = static_cast<double>(successes);
  double dn = static_cast<double>(n);
  double z2 = *z * *z;
  double denominator = dn + z2;
  double center = (k + z2 / 2) / denominator;
  double half_width = *z / denominator * std::sqrt(k * (dn - k) / dn + z2 / 4);
  Interval interval{center - half_width, center + half_width};
  // At k = 0 and k = n one end is 0 or 1 exactly; rounding must not move it outside.
  interval.lo = successes == 0 ? 0.0 : std::max(0.0, interval.lo);
  interval.hi = successes == n ? 1.0 : std::min(1.0, interval.hi);
  return interval;
}

std::optional<PairedProportionDifference> paired_proportion_difference(std::uint64_t candidate_only,
                                                                       std::uint64_t baseline_only, std::uint64_t n,
                                                                       double confidence) {
  auto z = two_sided_z(confidence);
  if (!z || n == 0 || candidate_only > n || baseline_only > n - candidate_only) return std::nullopt;
  double b = static_cast<double>(candidate_only);
  double c = static_cast<double>(baseline_only);
  double dn = static_cast<double>(n);
  PairedProportionDifference result;
  result.difference = (b - c) / dn;
  double variance = ((b + c) - (b - c) * (b - c) / dn) / (dn * dn);
  result.standard_error = std::sqrt(std::max(0.0, variance));
  result.interval = {result.difference - *z * result.standard_error, result.difference + *z * result.standard_error};
  result.p_value = mcnemar_exact(candidate_only, baseline_only);
  return result;
}

double mcnemar_exact(std::uint64_t candidate_only, std::uint64_t baseline_only) {
  return binomial_test_half(candidate_only, baseline_only);
}

}  // namespace llmeval::stats
