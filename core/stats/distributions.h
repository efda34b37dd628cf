// Distributions: the standard normal, Student's t and the binomial, as the rest of core/stats
// needs them for confidence intervals, p-values and sample sizes. Pure functions of their
// arguments, standard library only.
//
// Arguments outside a function's domain (a probability outside (0, 1), df <= 0, NaN) give
// std::nullopt rather than NaN or an exception: a confidence level typed by a user is an expected
// way to get here. Accuracy, measured against mpmath at 40 digits (tests/stats/):
//   normal_cdf, normal_quantile     ~1e-15 relative (std::erfc; Acklam + one Halley step)
//   student_t_*                     ~1e-13 relative up to df ~1e3; the lgamma terms of the
//                                   incomplete beta cancel as df grows: ~1e-10 at df = 1e6
//   binomial_cdf, binomial_test_*   ~1e-13 relative for n ~1e2; ~1e-9 at n = 1e6 (same reason)
#pragma once

#include <cstdint>
#include <optional>

namespace llmeval::stats {

// P(Z <= x) for Z ~ N(0, 1). Defined for every x (NaN gives NaN).
double normal_cdf(double x);

// The x with P(Z <= x) = p. Acklam's rational approximation (relative error 1.15e-9) refined by
// one Halley step on std::erfc, which brings it to machine precision. nullopt unless 0 < p < 1.
std::optional<double> normal_quantile(double p);

// The regularized incomplete beta function I_x(a, b), by the continued fraction of Numerical
// Recipes (3rd ed., §6.4) evaluated with the modified Lentz method. nullopt unless a > 0, b > 0
// and 0 <= x <= 1.
std::optional<double> regularized_incomplete_beta(double a, double b, double x);

// P(T <= t) for T ~ Student's t with df degrees of freedom (df may be fractional):
// I_{df/(df+t^2)}(df/2, 1/2) / 2 for t <= 0, its complement otherwise. nullopt unless df > 0.
std::optional<double> student_t_cdf(double t, double df);

// P(|T| >= |t|), the two-sided p-value of a t statistic, computed from the tail directly (so a
// small p-value keeps its relative precision). nullopt unless df > 0.
std::optional<double> student_t_two_sided_p(double t, double df);

// The t with P(T <= t) = p: the CDF inverted by Newton's method inside a bisection bracket
// (exact closed forms for df = 1 and df = 2). nullopt unless 0 < p < 1 and df > 0.
std::optional<double> student_t_quantile(double p, double df);

// P(X <= k) for X ~ Binomial(n, p), summed in log space (lgamma) from the largest term outward so
// that n in the millions works. nullopt unless 0 <= p <= 1. k >= n gives 1.
std::optional<double> binomial_cdf(std::uint64_t k, std::uint64_t n, double p);

// The exact two-sided binomial test of H0: p = 1/2 for `successes` against `failures`:
// min(1, 2 * P(X <= min(successes, failures))) with X ~ Binomial(successes + failures, 1/2).
// No trials at all gives 1. This is the exact McNemar test when the counts are the discordant
// pairs (core/stats/proportion.h).
double binomial_test_half(std::uint64_t successes, std::uint64_t failures);

}  // namespace llmeval::stats
