// Proportions against values computed outside this code. Wilson intervals: the closed form in
// mpmath at 40 digits, z = sqrt(2) erfinv(confidence), which both
// statsmodels.stats.proportion.proportion_confint(k, n, alpha, method="wilson") (statsmodels
// 0.13.5) and scipy.stats.binomtest(k, n).proportion_ci(confidence, method="wilson") (SciPy
// 1.10.1) reproduce to ~1e-16. Paired differences: Agresti's Wald formula in mpmath.
#include <catch2/catch.hpp>

#include <limits>

#include "core/stats/proportion.h"

using llmeval::stats::mcnemar_exact;
using llmeval::stats::paired_proportion_difference;
using llmeval::stats::wilson_interval;

namespace {

struct WilsonCase {
  std::uint64_t k;
  std::uint64_t n;
  double confidence;
  double lo;
  double hi;
};

}  // namespace

TEST_CASE("Wilson intervals match statsmodels, SciPy and the closed form", "[stats]") {
  const WilsonCase cases[] = {
      {0, 10, 0.95, 0, 0.27753279986288925272},
      {0, 10, 0.99, 0, 0.39885409330490814715},
      {10, 10, 0.95, 0.72246720013711074728, 1},
      {10, 10, 0.99, 0.60114590669509185285, 1},
      {81, 263, 0.95, 0.25528851987827422577, 0.36620957698280007015},
      {81, 263, 0.99, 0.24013690268760769189, 0.38528250231822984767},
      {1, 1, 0.95, 0.20654931437723738797, 1},
      {1, 1, 0.99, 0.1309775432801858443, 1},
      {15, 148, 0.95, 0.062386399530736279792, 0.16048724172330803892},
      {1, 29, 0.95, 0.0061132142927626605164, 0.17175521879320288131},
      {1, 29, 0.99, 0.0040614941968838110126, 0.23825425313641302894},
  };
  for (const WilsonCase& c : cases) {
    INFO(c.k << "/" << c.n << " at " << c.confidence);
    auto interval = wilson_interval(c.k, c.n, c.confidence);
    REQUIRE(interval);
    CHECK(interval->lo == Approx(c.lo).epsilon(1e-12).margin(1e-300));
    CHECK(interval->hi == Approx(c.hi).epsilon(1e-12));
  }
  // The ends at k = 0 and k = n are exact, never a rounding error outside [0, 1].
  CHECK(wilson_interval(0, 10, 0.95)->lo == 0);
  CHECK(wilson_interval(10, 10, 0.95)->hi == 1);
}

TEST_CASE("a Wilson interval needs rows and a confidence level", "[stats]") {
  CHECK_FALSE(wilson_interval(0, 0, 0.95).has_value());
  CHECK_FALSE(wilson_interval(11, 10, 0.95).has_value());
  CHECK_FALSE(wilson_interval(5, 10, 0).has_value());
  CHECK_FALSE(wilson_interval(5, 10, 1).has_value());
  CHECK_FALSE(wilson_interval(5, 10, 95).has_value());
  CHECK_FALSE(wilson_interval(5, 10, std::numeric_limits<double>::quiet_NaN()).has_value());
}

TEST_CASE("the paired difference of proportions uses the Wald interval for dependent proportions", "[stats]") {
  // mpmath: d = (b - c)/n, se = sqrt(((b + c) - (b - c)^2/n) / n^2), d -/+ z se.
  auto d = paired_proportion_difference(10, 2, 50, 0.95);
  REQUIRE(d);
  CHECK(d->difference == Approx(0.16).epsilon(1e-15));
  CHECK(d->standard_error == Approx(0.06548282217497959976).epsilon(1e-13));
  CHECK(d->interval.lo == Approx(0.031656026930999163067).epsilon(1e-12));
  CHECK(d->interval.hi == Approx(0.28834397306900083693).epsilon(1e-12));
  CHECK(d->p_value == Approx(0.03857421875).epsilon(1e-14));  // exact McNemar, as below

  d = paired_proportion_difference(25, 5, 200, 0.99);
  REQUIRE(d);
  CHECK(d->difference == Approx(0.1).epsilon(1e-15));
  CHECK(d->standard_error == Approx(0.026457513110645905905).epsilon(1e-13));
  CHECK(d->interval.lo == Approx(0.031849962430569045233).epsilon(1e-12));
  CHECK(d->interval.hi == Approx(0.16815003756943095477).epsilon(1e-12));

  // The candidate behind: the difference is negative (b < c).
  d = paired_proportion_difference(86, 150, 1600, 0.95);
  REQUIRE(d);
  CHECK(d->difference == Approx(-0.04).epsilon(1e-15));
  CHECK(d->standard_error == Approx(0.0095492146273921396242).epsilon(1e-13));
  CHECK(d->interval.lo == Approx(-0.058716116750331667314).epsilon(1e-12));
  CHECK(d->interval.hi == Approx(-0.021283883249668332686).epsilon(1e-12));

  // No discordant pairs: no difference, no spread, p = 1.
  d = paired_proportion_difference(0, 0, 30, 0.95);
  REQUIRE(d);
  CHECK(d->difference == 0);
  CHECK(d->standard_error == 0);
  CHECK(d->interval.lo == 0);
  CHECK(d->interval.hi == 0);
  CHECK(d->p_value == 1);

  CHECK_FALSE(paired_proportion_difference(0, 0, 0, 0.95).has_value());
  CHECK_FALSE(paired_proportion_difference(6, 5, 10, 0.95).has_value());  // more discordant than rows
  CHECK_FALSE(paired_proportion_difference(1, 1, 10, 1.0).has_value());
}

TEST_CASE("the exact McNemar test counts only discordant pairs", "[stats]") {
  // statsmodels.stats.contingency_tables.mcnemar([[0, b], [c, 0]], exact=True).pvalue
  CHECK(mcnemar_exact(10, 2) == Approx(0.03857421875).epsilon(1e-14));
  CHECK(mcnemar_exact(2, 10) == Approx(0.03857421875).epsilon(1e-14));
  CHECK(mcnemar_exact(0, 0) == 1);
  CHECK(mcnemar_exact(25, 5) == Approx(0.0003249142318964005).epsilon(1e-12));
  CHECK(mcnemar_exact(60, 40) == Approx(0.05688793364098088).epsilon(1e-12));
  // b + c = 10^6 (mpmath at 50 digits; see distributions_test.cpp for the tolerance).
  CHECK(mcnemar_exact(501'000, 499'000) == Approx(0.04560829986538208642).epsilon(1e-7));
}
