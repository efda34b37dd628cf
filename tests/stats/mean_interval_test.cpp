// Mean intervals against values computed outside this code: sums in exact rationals (Python
// fractions.Fraction over the decimal inputs), square roots and quantiles in mpmath at 40
// digits, cross-checked with SciPy 1.10.1 (scipy.stats.sem, t.interval, ttest_rel), NumPy and
// statsmodels 0.13.5 (OLS on a constant with cov_type="cluster", use_correction=False, which is
// the sandwich sum_c S_c^2 / n^2). SciPy's t.interval inherits the ~1e-9 error of its t.ppf (see
// distributions_test.cpp), so the interval ends are checked against mpmath.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstddef>
#include <limits>
#include <vector>

#include "core/stats/mean_interval.h"

using llmeval::stats::clustered_mean_interval;
using llmeval::stats::clustered_paired_difference;
using llmeval::stats::mean_t_interval;
using llmeval::stats::paired_t_test;

TEST_CASE("the t-interval of a small sample", "[stats]") {
  std::vector<double> x = {2.1, 3.4, 1.9, 5.6, 4.2, 3.3, 2.8};
  auto m = mean_t_interval(x, 0.95);
  REQUIRE(m);
  CHECK(m->n == 7);
  CHECK(m->clusters == 7);
  CHECK(m->degrees_of_freedom == 6);
  CHECK(m->mean == Approx(3.3285714285714285714).epsilon(1e-14));             // 23.3 / 7
  CHECK(m->standard_error == Approx(0.48191793695522858539).epsilon(1e-13));  // scipy.stats.sem agrees
  // mean -/+ t_{0.975,6} SE, t_{0.975,6} = 2.4469118511449699711 (mpmath)
  CHECK(m->interval.lo == Approx(2.14936071735634526).epsilon(1e-12));
  CHECK(m->interval.hi == Approx(4.5077821397865118828).epsilon(1e-12));
  m = mean_t_interval(x, 0.98);
  REQUIRE(m);
  CHECK(m->interval.lo == Approx(1.8140631551230555704).epsilon(1e-12));  // t_{0.99,6}
  CHECK(m->interval.hi == Approx(4.8430797020198015725).epsilon(1e-12));

  CHECK_FALSE(mean_t_interval(std::vector<double>{1.0}, 0.95).has_value());
  CHECK_FALSE(mean_t_interval(std::vector<double>{}, 0.95).has_value());
  CHECK_FALSE(mean_t_interval(x, 1.5).has_value());
  CHECK_FALSE(mean_t_interval(std::vector<double>{1, std::numeric_limits<double>::quiet_NaN()}, 0.95).has_value());
}

TEST_CASE("Miller's clustered standard error on a worked example", "[stats]") {
  // Three clusters, of sizes 2, 3 and 1 (ids need not be dense): {1, 0}, {0.5, 1, 1}, {0}.
  //   mean = 3.5 / 6 = 7/12; residuals 5/12, -7/12 | -1/12, 5/12, 5/12 | -7/12
  //   sum of squared residuals = 174/144 = 29/24
  //   SE_CLT^2 (Eq. 1)   = (29/24) / 5 / 6 = 29/720
  //   cross terms        = 2 (5/12)(-7/12) + 2 [(-1/12)(5/12) + (-1/12)(5/12) + (5/12)(5/12)] + 0
  //                      = (-70 + 30) / 144 = -5/18
  //   SE_clustered^2 (Eq. 4) = 29/720 - (5/18) / 36 = 211/6480, SE = 0.18044868632124127602
  // (NumPy: sqrt(r.var(ddof=1)/n + (sum_c S_c^2 - sum r^2)/n^2) = 0.18044868632124128.)
  std::vector<double> values = {1, 0, 0.5, 1, 1, 0};
  std::vector<std::size_t> cluster_of = {7, 7, 3, 3, 3, 9};
  auto m = clustered_mean_interval(values, cluster_of, 0.95);
  REQUIRE(m);
  CHECK(m->n == 6);
  CHECK(m->clusters == 3);
  CHECK(std::isinf(m->degrees_of_freedom));  // the standard normal, as in the paper
  CHECK(m->mean == Approx(7.0 / 12).epsilon(1e-15));
  CHECK(m->standard_error == Approx(0.18044868632124127602).epsilon(1e-13));
  // 7/12 -/+ z_{0.975} SE, z from mpmath
  CHECK(m->interval.lo == Approx(0.22966040708613490083).epsilon(1e-12));
  CHECK(m->interval.hi == Approx(0.93700625958053176584).epsilon(1e-12));

  // Singleton clusters have no cross terms: the clustered SE is the plain one exactly.
  std::vector<double> x = {2.1, 3.4, 1.9, 5.6, 4.2, 3.3, 2.8};
  std::vector<std::size_t> own = {0, 1, 2, 3, 4, 5, 6};
  CHECK(clustered_mean_interval(x, own, 0.95)->standard_error ==
        Approx(mean_t_interval(x, 0.95)->standard_error).epsilon(1e-15));

  // Perfectly correlated clusters: each acts as one observation, and the SE grows.
  std::vector<double> blocks = {1, 1, 1, 0, 0, 0, 1, 1, 1, 0, 0, 0};
  std::vector<std::size_t> block_of = {0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3};
  CHECK(clustered_mean_interval(blocks, block_of, 0.95)->standard_error >
        1.5 * mean_t_interval(blocks, 0.95)->standard_error);

  CHECK_FALSE(clustered_mean_interval(values, std::vector<std::size_t>(6, 4), 0.95).has_value());  // one cluster
  CHECK_FALSE(clustered_mean_interval(values, std::vector<std::size_t>{1, 2}, 0.95).has_value());  // sizes differ
  CHECK_FALSE(clustered_mean_interval(std::vector<double>{1}, std::vector<std::size_t>{1}, 0.95).has_value());
  CHECK_FALSE(clustered_mean_interval(values, cluster_of, 0).has_value());
}

TEST_CASE("the paired t test matches scipy.stats.ttest_rel", "[stats]") {
  std::vector<double> candidate = {0.8, 0.6, 0.9, 0.4, 0.7, 1.0, 0.5, 0.65};
  std::vector<double> baseline = {0.7, 0.65, 0.6, 0.4, 0.5, 0.8, 0.55, 0.6};
  auto t = paired_t_test(candidate, baseline, 0.95);
  REQUIRE(t);
  CHECK(t->n == 8);
  CHECK(t->degrees_of_freedom == 7);
  CHECK(t->mean_difference == Approx(0.09375).epsilon(1e-13));
  CHECK(t->standard_error == Approx(0.045745315919462492782).epsilon(1e-12));
  // ttest_rel(candidate, baseline): statistic 2.0493901531919194, pvalue 0.07960201245519757
  CHECK(t->statistic == Approx(2.0493901531919196766).epsilon(1e-12));
  CHECK(t->p_value == Approx(0.079602012455197651749).epsilon(1e-11));
  CHECK(t->interval.lo == Approx(-0.014420483419934526045).epsilon(1e-10));
  CHECK(t->interval.hi == Approx(0.20192048341993452605).epsilon(1e-12));

  // Both sides score every row alike: nothing to test.
  auto same = paired_t_test(baseline, baseline, 0.95);
  REQUIRE(same);
  CHECK(same->mean_difference == 0);
  CHECK(same->standard_error == 0);
  CHECK(same->statistic == 0);
  CHECK(same->p_value == 1);

  CHECK_FALSE(paired_t_test(candidate, std::vector<double>{1, 2}, 0.95).has_value());
  CHECK_FALSE(paired_t_test(std::vector<double>{1}, std::vector<double>{0}, 0.95).has_value());
}

TEST_CASE("the paired difference with clustered rows matches statsmodels' cluster-robust SE", "[stats]") {
  // Same rows as above, in four clusters. statsmodels: OLS(d, 1).fit(cov_type="cluster",
  // cov_kwds={"groups": g, "use_correction": False}) gives bse 0.042057090105296145,
  // z 2.2291128503014113, p 0.025806397119501397; the values below are the same in mpmath.
  std::vector<double> candidate = {0.8, 0.6, 0.9, 0.4, 0.7, 1.0, 0.5, 0.65};
  std::vector<double> baseline = {0.7, 0.65, 0.6, 0.4, 0.5, 0.8, 0.55, 0.6};
  std::vector<std::size_t> cluster_of = {1, 1, 2, 2, 2, 3, 4, 4};
  auto d = clustered_paired_difference(candidate, baseline, cluster_of, 0.95);
  REQUIRE(d);
  CHECK(d->n == 8);
  CHECK(d->clusters == 4);
  CHECK(std::isinf(d->degrees_of_freedom));
  CHECK(d->mean_difference == Approx(0.09375).epsilon(1e-13));
  CHECK(d->standard_error == Approx(0.042057090105296158019).epsilon(1e-12));
  CHECK(d->statistic == Approx(2.2291128503014112739).epsilon(1e-12));
  CHECK(d->p_value == Approx(0.025806397119501406918).epsilon(1e-11));
  CHECK(d->interval.lo == Approx(0.011319618099063652984).epsilon(1e-11));
  CHECK(d->interval.hi == Approx(0.17618038190093634702).epsilon(1e-12));

  CHECK_FALSE(clustered_paired_difference(candidate, baseline, std::vector<std::size_t>(8, 0), 0.95).has_value());
  CHECK_FALSE(clustered_paired_difference(candidate, baseline, std::vector<std::size_t>{1, 2}, 0.95).has_value());
}
