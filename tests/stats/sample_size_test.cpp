// Sample-size hints against the published formulas evaluated outside this code (mpmath, 40
// digits, z = sqrt(2) erfinv(2p - 1); SciPy 1.10.1's norm.ppf agrees to 1e-15) and against two
// published worked examples.
#include <catch2/catch.hpp>

#include <cmath>

#include "core/stats/sample_size.h"

using llmeval::stats::paired_means_sample_size;
using llmeval::stats::paired_proportions_sample_size;

TEST_CASE("the McNemar sample size follows Connor (1987)", "[stats]") {
  // Worked example of the "Compare Paired Proportions: McNemar's Z-test, 2-Sided Equality" page of
  // zarathucorp.github.io/open-powersamplesize, whose R code cites Connor 1987, p. 209:
  // p01 = 0.45, p10 = 0.05, alpha = 0.05, beta = 0.20 -> ceiling(n) = 23.
  auto n = paired_proportions_sample_size(0.5, -0.4, 0.95, 0.8);
  REQUIRE(n);
  CHECK(*n == Approx(22.011324427435794751).epsilon(1e-12));  // mpmath
  CHECK(std::ceil(*n) == 23);
  // b = 10, c = 2 of n = 50: p_disc = 0.24, d = 0.16.
  CHECK(*paired_proportions_sample_size(0.24, 0.16, 0.95) == Approx(71.178870851799139391).epsilon(1e-12));
  // b = 30, c = 18 of n = 1000, at 99% confidence and 90% power.
  CHECK(*paired_proportions_sample_size(0.048, 0.012, 0.99, 0.9) == Approx(4954.849811076930819).epsilon(1e-12));
  // Every discordant row one way: p_disc = d = 1, and only the z_{1-a/2} term is left.
  CHECK(*paired_proportions_sample_size(1, 1, 0.95) == Approx(3.8414588206941259584).epsilon(1e-12));

  CHECK_FALSE(paired_proportions_sample_size(0.3, 0, 0.95).has_value());    // no difference to detect
  CHECK_FALSE(paired_proportions_sample_size(0.1, 0.2, 0.95).has_value());  // |d| > p_disc
  CHECK_FALSE(paired_proportions_sample_size(1.5, 0.2, 0.95).has_value());
  CHECK_FALSE(paired_proportions_sample_size(0.3, 0.1, 1).has_value());
  CHECK_FALSE(paired_proportions_sample_size(0.3, 0.1, 0.95, 0).has_value());
}

TEST_CASE("the paired-means sample size follows Miller's Eq. 9", "[stats]") {
  // Miller, arXiv:2411.00640, §5: omega^2 = 1/9, delta = 0.03, alpha = 0.05, beta = 0.20
  // "n = (z_0.025 + z_0.20)^2 (1/9) / 0.03^2 ~ 969"; mpmath gives 968.9974980677887594.
  auto n = paired_means_sample_size(0.03, 1.0 / 3, 0.95, 0.8);
  REQUIRE(n);
  CHECK(*n == Approx(968.9974980677887594).epsilon(1e-12));
  CHECK(std::ceil(*n) == 969);
  CHECK(*paired_means_sample_size(0.1, 0.5, 0.95) == Approx(196.22199335872722378).epsilon(1e-12));
  // The sign of the difference does not matter.
  CHECK(*paired_means_sample_size(-0.05, 0.3, 0.9, 0.9) == Approx(308.29850462404724883).epsilon(1e-12));

  CHECK_FALSE(paired_means_sample_size(0, 0.3, 0.95).has_value());
  CHECK_FALSE(paired_means_sample_size(0.1, -1, 0.95).has_value());
  CHECK_FALSE(paired_means_sample_size(0.1, 0.3, 0.95, 1).has_value());
}
