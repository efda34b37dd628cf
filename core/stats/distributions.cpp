#include "core/stats/distributions.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numbers>

namespace llmeval::stats {

namespace {

constexpr double kEpsilon = std::numeric_limits<double>::epsilon();
constexpr double kTiny = std::numeric_limits<double>::min() / kEpsilon;  // keeps Lentz's ratios off zero

// Acklam's rational approximation of the normal quantile for 0 < p <= 1/2 (relative error below
// 1.15e-9), refined by one Halley step: x -= u / (1 + x u / 2), u = (Phi(x) - p) / phi(x).
double normal_lower_quantile(double p) {
  static constexpr double a[] = {-3.969683028665376e+01, 2.209460984245205e+02,  -2.759285104469687e+02,
                                 1.383577518672690e+02,  -3.066479806614716e+01, 2.506628277459239e+00};
  static constexpr double b[] = {-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02,
                                 6.680131188771972e+01, -1.328068155288572e+01};
  static constexpr double c[] = {-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00,
                                 -2.549732539343734e+00, 4.374664141464968e+00,  2.938163982698783e+00};
  static constexpr double d[] = {7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00,
                                 3.754408661907416e+00};
  constexpr double kLowBreak = 0.02425;

  double x = 0;
  if (p < kLowBreak) {
    double q = std::sqrt(-2 * std::log(p));
    x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
        ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  } else {
    double q = p - 0.5;
    double r = q * q;
    x = (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q /
        (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
  }
  double e = normal_cdf(x) - p;
  double u = e * std::sqrt(2 * std::numbers::pi) * std::exp(x * x / 2);
  if (std::isfinite(u)) x -= u / (1 + x * u / 2);  // far in the tail exp() can overflow; keep Acklam
  return x;
}

// The continued fraction for I_x(a, b) (Numerical Recipes 3rd ed., betacf), by modified Lentz.
// Converges quickly for x < (a + 1) / (a + b + 2); the number of terms grows like sqrt(max(a, b)).
double beta_continued_fraction(double a, double b, double x) {
  constexpr int kMaxIterations = 1'000'000;
  double qab = a + b;
  double qap = a + 1;
  double qam = a - 1;
  double c = 1;
  double d = 1 - qab * x / qap;
  if (std::fabs(d) < kTiny) d = kTiny;
  d = 1 / d;
  double h = d;
  for (int m = 1; m <= kMaxIterations; ++m) {
    int m2 = 2 * m;
    double aa = m * (b - m) * x / ((qam + m2) * (a + m2));
    d = 1 + aa * d;
    if (std::fabs(d) < kTiny) d = kTiny;
    c = 1 + aa / c;
    if (std::fabs(c) < kTiny) c = kTiny;
    d = 1 / d;
    h *= d * c;
    aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
    d = 1 + aa * d;
    if (std::fabs(d) < kTiny) d = kTiny;
    c = 1 + aa / c;
    if (std::fabs(c) < kTiny) c = kTiny;
    d = 1 / d;
    double del = d * c;
    h *= del;
    if (std::fabs(del - 1) <= kEpsilon) break;
  }
  return h;
}

// I_x(a, b) with y = 1 - x supplied by the caller, who can often compute it without cancellation.
double incomplete_beta(double a, double b, double x, double y) {
  if (x <= 0) return 0;
  if (y <= 0) return 1;
  double log_front = std::lgamma(a + b) - std::lgamma(a) - std::lgamma(b) + a * std::log(x) + b * std::log(y);
  double front = std::exp(log_front);
  if (x < (a + 1) / (a + b + 2)) return front * beta_continued_fraction(a, b, x) / a;
  return 1 - front * beta_continued_fraction(b, a, y) / b;
}

// P(T > |t|) for T ~ t(df), df finite and positive.
double student_t_upper_tail(double t, double df) {
  if (std::isinf(t)) return 0;
  double t2 = t * t;
  double x = df / (df + t2);
  double y = t2 / (df + t2);
  return incomplete_beta(df / 2, 0.5, x, y) / 2;
}

double student_t_pdf(double t, double df) {
  double log_density = std::lgamma((df + 1) / 2) - std::lgamma(df / 2) - 0.5 * std::log(df * std::numbers::pi) -
                       (df + 1) / 2 * std::log1p(t * t / df);
  return std::exp(log_density);
}

// The t >= 0 with P(T > t) = q, for 0 < q < 1/2: Newton's method on the upper tail, kept inside
// a bracket [lo, hi] that bisection falls back on whenever a Newton step would leave it.
double student_t_upper_quantile(double q, double df) {
  double lo = 0;
  double hi = std::max(1.0, 2 * -normal_lower_quantile(q));
  for (int i = 0; i < 2000 && student_t_upper_tail(hi, df) >= q; ++i) {
    lo = hi;
    hi *= 2;
    if (std::isinf(hi)) return hi;
  }
  double t = std::clamp(-normal_lower_quantile(q), lo, hi);
  if (t <= lo || t >= hi) t = (lo + hi) / 2;
  for (int i = 0; i < 500; ++i) {
    double excess = student_t_upper_tail(t, df) - q;  // > 0: t is too small
    if (excess == 0) return t;
    if (excess > 0) {
      lo = t;
    } else {
      hi = t;
    }
    double next = t + excess / student_t_pdf(t, df);
    if (!(next > lo && next < hi)) next = lo + (hi - lo) / 2;
    // Newton converges quadratically: once a step is at the noise of the tail itself, stop.
    if (std::fabs(next - t) <= 64 * kEpsilon * std::fabs(next) || hi - lo <= 2 * kEpsilon * hi) return next;
    t = next;
  }
  return t;
}

// Sum of exp(log_first) * (1 + r_1 + r_1 r_2 + ...), the terms of a binomial tail from its largest
// term outward, where next(i) gives the ratio of term i+1 to term i (i counts from 0) and the
// terms only shrink. Stops once a term no longer changes the sum, or after `count` terms.
template <typename Ratio>
double geometric_like_sum(double log_first, std::uint64_t count, Ratio next) {
  double sum = 1;
  double term = 1;
  for (std::uint64_t i = 0; i + 1 < count; ++i) {
    term *= next(i);
    sum += term;
    if (term <= sum * kEpsilon * 1e-2) break;
  }
  return std::exp(log_first + std::log(sum));
}

}  // namespace

double normal_cdf(double x) { return 0.5 * std::erfc(-x / std::numbers::sqrt2); }

std::optional<double> normal_quantile(double p) {
  if (!(p > 0 && p < 1)) return std::nullopt;
  if (p > 0.5) return -normal_lower_quantile(1 - p);  // 1 - p is exact here; the lower tail is precise
  return normal_lower_quantile(p);
}

std::optional<double> regularized_incomplete_beta(double a, double b, double x) {
  if (!(a > 0 && b > 0 && x >= 0 && x <= 1)) return std::nullopt;
  return incomplete_beta(a, b, x, 1 - x);
}

std::optional<double> student_t_cdf(double t, double df) {
  if (std::isnan(t) || !(df > 0)) return std::nullopt;
  if (std::isinf(df)) return normal_cdf(t);
  double tail = student_t_upper_tail(t, df);
  return t < 0 ? tail : 1 - tail;
}

std::optional<double> student_t_two_sided_p(double t, double df) {
  if (std::isnan(t) || !(df > 0)) return std::nullopt;
  if (std::isinf(df)) return std::erfc(std::fabs(t) / std::numbers::sqrt2);
  return 2 * student_t_upper_tail(t, df);
}

std::optional<double> student_t_quantile(double p, double df) {
  if (!(p > 0 && p < 1) || !(df > 0)) return std::nullopt;
  if (p == 0.5) return 0.0;
  if (std::isinf(df)) return normal_quantile(p);
  double q = p < 0.5 ? p : 1 - p;  // the smaller tail, exact
  double upper = 0;
  if (df == 1) {
    upper = 1 / std::tan(std::numbers::pi * q);  // Cauchy
  } else if (df == 2) {
    upper = (1 - 2 * q) / std::sqrt(2 * q * (1 - q));
  } else {
    upper = student_t_upper_quantile(q, df);
  }
  return p < 0.5 ? -upper : upper;
}

std::optional<double> binomial_cdf(std::uint64_t k, std::uint64_t n, double p) {
  if (!(p >= 0 && p <= 1)) return std::nullopt;
  if (k >= n || p == 0) return 1.0;
  if (p == 1) return 0.0;
  double dn = static_cast<double>(n);
  double log_p = std::log(p);
  double log_q = std::log1p(-p);
  double odds = p / (1 - p);
  auto log_pmf = [&](std::uint64_t i) {
    double di = static_cast<double>(i);
    return std::lgamma(dn + 1) - std::lgamma(di + 1) - std::lgamma(dn - di + 1) + di * log_p + (dn - di) * log_q;
  };
  // Terms grow while i <= (n + 1) p, so below the mode sum P(X <= k) from k down, and at or
  // above it take 1 - P(X > k), summed from k + 1 up; either way from the largest term outward.
  auto mode = static_cast<std::uint64_t>(std::floor((dn + 1) * p));
  if (k < mode) {
    // term(i - 1) / term(i) = i / (n - i + 1) / odds, for i = k, k - 1, ..., 1
    return geometric_like_sum(log_pmf(k), k + 1, [&](std::uint64_t step) {
      double i = static_cast<double>(k - step);
      return i / (dn - i + 1) / odds;
    });
  }
  // term(i + 1) / term(i) = (n - i) / (i + 1) * odds, for i = k + 1, k + 2, ..., n - 1
  double upper = geometric_like_sum(log_pmf(k + 1), n - k, [&](std::uint64_t step) {
    double i = static_cast<double>(k + 1 + step);
    return (dn - i) / (i + 1) * odds;
  });
  return std::max(0.0, 1 - upper);
}

double binomial_test_half(std::uint64_t successes, std::uint64_t failures) {
  if (successes == failures) return 1;  // covers no trials; P(X <= n/2) >= 1/2 doubles past 1
  std::uint64_t n = successes + failures;
  std::uint64_t m = std::min(successes, failures);
  double p = 2 * *binomial_cdf(m, n, 0.5);
  if (p < 0.5) return p;
  // Near the center use the symmetry 2 P(X <= m) = 1 - P(m < X < n - m): the middle terms are
  // few, and the rounding of the lgamma terms then lands on them rather than on a p-value near 1
  // (so that, say, 3 against 4 gives exactly 1, not 0.9999999999999998).
  double dn = static_cast<double>(n);
  std::uint64_t center = n / 2;
  std::uint64_t first = m + 1;     // the middle is [first, last]
  std::uint64_t last = n - m - 1;  // >= center, as m < n / 2
  if (first > last) return 1;
  double log_center = std::lgamma(dn + 1) - std::lgamma(static_cast<double>(center) + 1) -
                      std::lgamma(dn - static_cast<double>(center) + 1) - dn * std::numbers::ln2;
  double sum = 1;
  double term = 1;
  for (std::uint64_t i = center; i > first; --i) {  // term(i - 1) = term(i) * i / (n - i + 1)
    double di = static_cast<double>(i);
    term *= di / (dn - di + 1);
    sum += term;
  }
  term = 1;
  for (std::uint64_t i = center + 1; i <= last; ++i) {  // term(i) = term(i - 1) * (n - i + 1) / i
    double di = static_cast<double>(i);
    term *= (dn - di + 1) / di;
    sum += term;
  }
  return std::clamp(1 - std::exp(log_center + std::log(sum)), 0.0, 1.0);
}

}  // namespace llmeval::stats
