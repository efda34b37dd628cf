// Sample size: how many rows a paired comparison needs to detect a given difference between a
// candidate and a baseline with a given power, two-sided at a given confidence level. Used as a
// hint next to a difference that did not reach significance ("an effect this size needs ~N rows").
// Both are normal-approximation planning formulas; they return the real-valued n, which callers
// round up. Quantiles: z_{1-a/2} = normal_quantile((1 + confidence) / 2), z_power =
// normal_quantile(power).
#pragma once

#include <optional>

namespace llmeval::stats {

// Rows needed for McNemar's test to detect a paired difference of proportions (Connor, "Sample
// size for testing differences in proportions for the paired-sample design", Biometrics 43(1),
// 1987, p. 209):
//   n = ( z_{1-a/2} sqrt(p_disc) + z_power sqrt(p_disc - d^2) )^2 / d^2
// with p_disc = (b + c) / n the share of discordant rows and d = (b - c) / n the difference
// (b, c as in core/stats/proportion.h). nullopt when d = 0, |d| > p_disc, p_disc > 1, or the
// confidence or power is not strictly between 0 and 1.
std::optional<double> paired_proportions_sample_size(double discordant_share, double difference, double confidence,
                                                     double power = 0.8);

// Rows needed for a paired comparison of means to detect a mean difference d when the per-row
// differences have standard deviation sd_difference:
//   n = ( (z_{1-a/2} + z_power) * sd_difference / d )^2,
// Miller, arXiv:2411.00640, Eq. 9 with K_A = K_B = 1 (omega^2 + sigma_A^2 + sigma_B^2 is then
// the variance of the per-row difference). Clustered rows need the cluster-adjusted variance of
// the paper's Appendix C instead. nullopt when d = 0, sd_difference is negative or not finite, or
// the confidence or power is not strictly between 0 and 1.
std::optional<double> paired_means_sample_size(double difference, double sd_difference, double confidence,
                                               double power = 0.8);

}  // namespace llmeval::stats
