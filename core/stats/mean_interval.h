// Mean intervals: the uncertainty of a mean score, and of the mean of paired differences between
// a candidate and a baseline scored on the same rows, for scores that need not be pass/fail
// (normalized judge scores, F1). Proportions have their own, better intervals in
// core/stats/proportion.h. Every function takes the scores as spans and makes one or two passes.
//
// Two kinds of standard error:
//   * independent rows: s / sqrt(n), with Student's t on n - 1 degrees of freedom (the textbook
//     t-interval and paired t test);
//   * rows drawn in groups (several questions about one passage, one prompt in several
//     languages): the clustered standard errors of Miller, "Adding Error Bars to Evals: A
//     Statistical Approach to Language Model Evaluations" (2024, arXiv:2411.00640), §2.2 and
//     §4.2, with the standard normal for intervals and p-values as the paper does (its Eq. 3,
//     mean -/+ 1.96 SE). No small-sample factor such as G/(G-1) is applied: the paper has none.
//     Being asymptotic in the number of clusters G, they run narrow when G is small (tens).
#pragma once

#include <cstddef>
#include <optional>
#include <span>

#include "core/stats/interval.h"

namespace llmeval::stats {

struct MeanEstimate {
  double mean = 0;
  double standard_error = 0;
  // Of the reference distribution the interval came from: n - 1 for Student's t; +infinity for
  // the standard normal (the clustered estimates).
  double degrees_of_freedom = 0;
  std::size_t n = 0;
  std::size_t clusters = 0;  // distinct cluster ids; n when the rows are independent
  Interval interval;
};

struct PairedDifference {
  double mean_difference = 0;  // mean of candidate[i] - baseline[i]; positive: the candidate scores higher
  double standard_error = 0;
  double degrees_of_freedom = 0;  // n - 1 (t), or +infinity (standard normal, clustered)
  std::size_t n = 0;
  std::size_t clusters = 0;  // distinct cluster ids; n when the rows are independent
  Interval interval;
  double statistic = 0;  // mean_difference / standard_error: t, or z when clustered
  double p_value = 1;    // two-sided, for H0: mean difference = 0
};

// The t-interval of a mean: mean -/+ t_{(1 + confidence)/2, n-1} * s / sqrt(n), s the sample
// standard deviation (divisor n - 1). nullopt when n < 2, a value is not finite, or the
// confidence is not strictly between 0 and 1.
std::optional<MeanEstimate> mean_t_interval(std::span<const double> values, double confidence);

// The mean of values grouped in clusters (cluster_of[i] is the cluster of values[i]; any ids),
// with Miller's clustered standard error, Eq. 4 of arXiv:2411.00640:
//   SE_clustered = ( SE_CLT^2 + (1/n^2) sum_c sum_i sum_{j != i} (s_ic - mean)(s_jc - mean) )^(1/2)
// where SE_CLT^2 = (1/(n-1)) sum_i (s_i - mean)^2 / n is the paper's Eq. 1. Singleton clusters add
// no cross terms, so all-singleton clusters give exactly the unclustered SE_CLT. The interval is
// mean -/+ z_{(1 + confidence)/2} * SE_clustered. nullopt when the spans differ in length, n < 2,
// there are fewer than 2 clusters, a value is not finite, or the confidence is not in (0, 1).
std::optional<MeanEstimate> clustered_mean_interval(std::span<const double> values,
                                                    std::span<const std::size_t> cluster_of, double confidence);

// The paired t test on d_i = candidate[i] - baseline[i]: mean(d), SE = sd(d) / sqrt(n) (Miller's
// SE_{A-B,paired}, §4.2), t = mean / SE on n - 1 degrees of freedom, the t-interval and the
// two-sided p-value (scipy.stats.ttest_rel). When the SE comes out 0 (every difference equal, as
// when both score every row alike) the statistic is 0 with p = 1 if the mean difference is 0,
// else +/-infinity with p = 0. nullopt when the
// spans differ in length, n < 2, a value is not finite, or the confidence is not in (0, 1).
std::optional<PairedDifference> paired_t_test(std::span<const double> candidate, std::span<const double> baseline,
                                              double confidence);

// The paired difference with the rows clustered (cluster_of[i] groups row i), using Miller's
// paired-and-clustered standard error as printed in §4.2 of arXiv:2411.00640:
//   SE_{A-B,paired,clustered} = (1/n) ( sum_c sum_i sum_j (d_ic - mean)(d_jc - mean) )^(1/2)
//                             = sqrt( sum_c (sum_{i in c} (d_i - mean))^2 ) / n.
// Note it keeps the i = j terms over n^2 (the plain sandwich of the paper's Appendix A), where
// Eq. 4 above uses SE_CLT^2 (over n(n-1)) for them: the two differ by that factor on the diagonal
// only, which is negligible for eval-sized n. z = mean / SE, the p-value is two-sided on the
// standard normal, the interval mean -/+ z_{(1 + confidence)/2} * SE. Same nullopt cases as
// clustered_mean_interval, plus spans of different lengths.
std::optional<PairedDifference> clustered_paired_difference(std::span<const double> candidate,
                                                            std::span<const double> baseline,
                                                            std::span<const std::size_t> cluster_of, double confidence);

}  // namespace llmeval::stats
