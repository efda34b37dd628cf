// Proportions: the uncertainty of a pass rate (the Wilson score interval) and the comparison of
// two pass rates measured on the same rows: the paired difference with its Wald interval, and the
// exact McNemar test. Pure functions of counts.
//
// Paired counts, everywhere in this file: n rows, each scored pass/fail by a baseline and by a
// candidate, and
//   candidate_only (b) = rows the candidate passes and the baseline fails,
//   baseline_only  (c) = rows the baseline passes and the candidate fails.
// Rows both pass or both fail (the concordant pairs) count only in n. The difference is
// candidate rate - baseline rate = (b - c) / n: positive means the candidate passes more rows.
#pragma once

#include <cstdint>
#include <optional>

#include "core/stats/interval.h"

namespace llmeval::stats {

// The Wilson score interval for `successes` out of `n` at a two-sided confidence level (0.95 for
// 95%), with z = normal_quantile((1 + confidence) / 2):
//   (k + z^2/2) / (n + z^2)  -/+  z / (n + z^2) * sqrt(k (n - k) / n + z^2 / 4).
// Unlike the Wald interval it stays inside [0, 1] and has width at k = 0 and k = n. nullopt when
// n = 0, successes > n, or the confidence is not strictly between 0 and 1.
std::optional<Interval> wilson_interval(std::uint64_t successes, std::uint64_t n, double confidence);

struct PairedProportionDifference {
  double difference = 0;      // (b - c) / n
  double standard_error = 0;  // sqrt(((b + c) - (b - c)^2 / n) / n^2)
  Interval interval;          // difference -/+ z * standard_error; not clipped to [-1, 1]
  double p_value = 1;         // exact McNemar, two-sided: mcnemar_exact(b, c)
};

// The difference of two proportions measured on the same n rows, with the standard Wald interval
// for paired (dependent) proportions: Agresti, "Categorical Data Analysis", §10.1, where the
// variance of the difference of the marginal proportions is (pi_12 + pi_21 - (pi_12 - pi_21)^2)/n,
// here estimated with pi_12 = b/n and pi_21 = c/n. nullopt when n = 0, b + c > n, or the
// confidence is not strictly between 0 and 1.
std::optional<PairedProportionDifference> paired_proportion_difference(std::uint64_t candidate_only,
                                                                       std::uint64_t baseline_only, std::uint64_t n,
                                                                       double confidence);

// The exact McNemar test of "candidate and baseline pass at the same rate": under H0 each
// discordant pair is candidate-only with probability 1/2, so with X ~ Binomial(b + c, 1/2) the
// two-sided p-value is min(1, 2 * P(X <= min(b, c))). No discordant pairs gives 1.
double mcnemar_exact(std::uint64_t candidate_only, std::uint64_t baseline_only);

}  // namespace llmeval::stats
