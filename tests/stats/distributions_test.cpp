// Distributions against values computed outside this code: mpmath 1.2.1 at 40 significant digits,
// evaluated at the exact binary value of each double argument (mpmath.mpf(float(x)), so that the
// reference answers the question the C++ code is asked): the normal CDF as mpmath.ncdf, its
// quantile as sqrt(2) erfinv(2p - 1), the t CDF as I_x(df/2, 1/2) / 2 with mpmath.betainc, the t
// quantile as mpmath.findroot on that CDF, the binomial CDF as I_{1-p}(n - k, k + 1). SciPy 1.10.1
// was run alongside; where it disagrees beyond 1e-12 the comment says so. In particular its t.ppf
// is off by up to ~2e-9 relative here: scipy.stats.t.ppf(0.975, 10) = 2.2281388519649385, the
// root is 2.22813885198627422...; a printed t table (2.228) cannot tell them apart.
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>

#include "core/stats/distributions.h"

using llmeval::stats::binomial_cdf;
using llmeval::stats::binomial_test_half;
using llmeval::stats::normal_cdf;
using llmeval::stats::normal_quantile;
using llmeval::stats::regularized_incomplete_beta;
using llmeval::stats::student_t_cdf;
using llmeval::stats::student_t_quantile;
using llmeval::stats::student_t_two_sided_p;

namespace {

struct Point {
  double df;
  double x;
  double expected;
};

}  // namespace

TEST_CASE("the standard normal CDF matches mpmath", "[stats]") {
  CHECK(normal_cdf(-10) == Approx(7.619853024160526066e-24).epsilon(1e-12));
  CHECK(normal_cdf(-3) == Approx(0.0013498980316300945267).epsilon(1e-13));
  CHECK(normal_cdf(-1.96) == Approx(0.024997895148220436213).epsilon(1e-13));
  CHECK(normal_cdf(0) == 0.5);
  CHECK(normal_cdf(0.5) == Approx(0.69146246127401310364).epsilon(1e-14));
  CHECK(normal_cdf(1) == Approx(0.84134474606854294859).epsilon(1e-14));
  CHECK(normal_cdf(2.5) == Approx(0.99379033467422386483).epsilon(1e-14));
  CHECK(normal_cdf(8) == Approx(0.9999999999999993779).epsilon(1e-15));
}

TEST_CASE("the standard normal quantile matches mpmath to 1e-13", "[stats]") {
  const double kRelative = 1e-13;
  CHECK(*normal_quantile(1e-10) == Approx(-6.3613409024040561991).epsilon(kRelative));
  CHECK(*normal_quantile(0.001) == Approx(-3.0902323061678135354).epsilon(kRelative));
  CHECK(*normal_quantile(0.025) == Approx(-1.9599639845400542118).epsilon(kRelative));
  CHECK(*normal_quantile(0.1) == Approx(-1.2815515655446004353).epsilon(kRelative));
  CHECK(*normal_quantile(0.5) == 0);
  CHECK(*normal_quantile(0.8) == Approx(0.8416212335729143638).epsilon(kRelative));
  CHECK(*normal_quantile(0.975) == Approx(1.9599639845400538556).epsilon(kRelative));
  CHECK(*normal_quantile(0.999) == Approx(3.0902323061678132778).epsilon(kRelative));
  CHECK(*normal_quantile(0.999999) == Approx(4.7534243088170877657).epsilon(kRelative));
  // The Halley step makes the quantile and the CDF inverses of each other, deep into the tail.
  for (double p : {1e-300, 1e-20, 0.3, 0.5 + 1e-9, 0.7, 0.95}) {
    INFO("p " << p);
    CHECK(normal_cdf(*normal_quantile(p)) == Approx(p).epsilon(1e-13));
  }
}

TEST_CASE("quantiles outside (0, 1) and other bad arguments have no value", "[stats]") {
  double nan = std::numeric_limits<double>::quiet_NaN();
  for (double p : {0.0, 1.0, -0.5, 1.5, nan}) {
    CHECK_FALSE(normal_quantile(p).has_value());
    CHECK_FALSE(student_t_quantile(p, 10).has_value());
  }
  CHECK_FALSE(student_t_quantile(0.9, 0).has_value());
  CHECK_FALSE(student_t_quantile(0.9, -3).has_value());
  CHECK_FALSE(student_t_cdf(1, 0).has_value());
  CHECK_FALSE(student_t_cdf(nan, 5).has_value());
  CHECK_FALSE(student_t_two_sided_p(1, nan).has_value());
  CHECK_FALSE(regularized_incomplete_beta(0, 1, 0.5).has_value());
  CHECK_FALSE(regularized_incomplete_beta(1, 1, 1.5).has_value());
  CHECK_FALSE(binomial_cdf(1, 10, 1.5).has_value());
  CHECK_FALSE(binomial_cdf(1, 10, nan).has_value());
}

TEST_CASE("the regularized incomplete beta matches mpmath.betainc", "[stats]") {
  CHECK(*regularized_incomplete_beta(2, 3, 0.4) == Approx(0.52480000000000003837).epsilon(1e-13));
  CHECK(*regularized_incomplete_beta(0.5, 0.5, 0.1) == Approx(0.20483276469913345754).epsilon(1e-13));
  CHECK(*regularized_incomplete_beta(10, 0.5, 0.9) == Approx(0.15164090963470996856).epsilon(1e-12));
  // a, b in the hundreds: the lgamma terms cancel, leaving ~1e-13 (scipy.special.betainc
  // prints 0.45661816333401317, 3.5e-14 off).
  CHECK(*regularized_incomplete_beta(100, 200, 0.33) == Approx(0.45661816333399739653).epsilon(1e-11));
  CHECK(*regularized_incomplete_beta(3, 4, 0) == 0);
  CHECK(*regularized_incomplete_beta(3, 4, 1) == 1);
}

TEST_CASE("the t CDF matches mpmath for df 1, 2, 5, 10, 30, 1000 and 2.5", "[stats]") {
  const Point points[] = {
      {1, -3, 0.10241638234956672582},      {1, -0.5, 0.35241638234956672582},     {1, 1, 0.75},
      {1, 2.228, 0.86571045352760541588},   {1, 4, 0.92202086962263067454},        {2, -3, 0.04773298313335456603},
      {2, -0.5, 0.33333333333333333333},    {2, 1, 0.78867513459481288225},        {2, 2.228, 0.92213980823373897957},
      {2, 4, 0.97140452079103168293},       {5, -3, 0.015049623948731286924},      {5, -0.5, 0.31914943582046450335},
      {5, 1, 0.8183912661754386872},        {5, 2.228, 0.96182167906531718229},    {5, 4, 0.9948382922595842731},
      {10, -3, 0.0066718275112847886034},   {10, -0.5, 0.31394680287148647135},    {10, 1, 0.82955343384897006366},
      {10, 2.228, 0.97499411409144431732},  {10, 4, 0.99874083368763165387},       {30, -3, 0.0026949820328259733064},
      {30, -0.5, 0.31036150244256364298},   {30, 1, 0.83734569228698505438},       {30, 2.228, 0.98323682638133899048},
      {30, 4, 0.99980907718195812158},      {1000, -3, 0.0013833545221190962321},  {1000, -0.5, 0.30859254041693740732},
      {1000, 1, 0.84122379095766384646},    {1000, 2.228, 0.98694885304403544181}, {1000, 4, 0.99996599504039560921},
      {2.5, -3, 0.036288047774515921947},   {2.5, -0.5, 0.32884895993485734467},   {2.5, 1, 0.79796948636086326682},
      {2.5, 2.228, 0.93505904450365748871}, {2.5, 4, 0.98049351207934087669},
  };
  for (const Point& p : points) {
    INFO("df " << p.df << ", t " << p.x);
    CHECK(*student_t_cdf(p.x, p.df) == Approx(p.expected).epsilon(1e-12));
  }
  CHECK(*student_t_cdf(0, 7.5) == 0.5);
  CHECK(*student_t_cdf(-std::numeric_limits<double>::infinity(), 3) == 0);
  CHECK(*student_t_cdf(std::numeric_limits<double>::infinity(), 3) == 1);
  // df = infinity is the standard normal.
  CHECK(*student_t_cdf(1, std::numeric_limits<double>::infinity()) == Approx(0.84134474606854294859).epsilon(1e-14));
}

TEST_CASE("the two-sided t p-value matches mpmath", "[stats]") {
  CHECK(*student_t_two_sided_p(2.5, 10) == Approx(0.031446844236608804249).epsilon(1e-12));
  CHECK(*student_t_two_sided_p(-4.1, 5) == Approx(0.009354824029476060343).epsilon(1e-12));
  CHECK(*student_t_two_sided_p(0.3, 30) == Approx(0.76624610528435281765).epsilon(1e-12));
  CHECK(*student_t_two_sided_p(3.3, 1000) == Approx(0.001000996725002089935).epsilon(1e-11));
  CHECK(*student_t_two_sided_p(12, 2.5) == Approx(0.0028362150300783238289).epsilon(1e-12));
  CHECK(*student_t_two_sided_p(0, 4) == 1);
}

TEST_CASE("the t quantile matches mpmath for df 1, 2, 5, 10, 30, 1000, 2.5 and 1.5", "[stats]") {
  // The printed t table value (3 places) first, then mpmath.
  CHECK(*student_t_quantile(0.975, 10) == Approx(2.228).margin(5e-4));
  const Point points[] = {
      {1, 0.975, 12.706204736174693314},    {1, 0.995, 63.656741162871524447},     {1, 0.9, 3.0776835371752541331},
      {1, 0.025, -12.706204736174703938},   {1, 0.6, 0.32491969623290624903},      {2, 0.975, 4.3026527297494617894},
      {2, 0.995, 9.9248432009182886403},    {2, 0.9, 1.8856180831641270225},       {2, 0.025, -4.3026527297494637234},
      {2, 0.6, 0.28867513459481281549},     {5, 0.975, 2.5705818356363147828},     {5, 0.995, 4.0321429835552271793},
      {5, 0.9, 1.4758840488244812516},      {5, 0.025, -2.570581835636315469},     {5, 0.6, 0.26718086570414506569},
      {10, 0.975, 2.2281388519862742245},   {10, 0.995, 3.1692726726169507118},    {10, 0.9, 1.3721836411103357746},
      {10, 0.025, -2.2281388519862747157},  {10, 0.6, 0.26018482949208017615},     {30, 0.975, 2.0422724563012378878},
      {30, 0.995, 2.7499956535672249664},   {30, 0.9, 1.3104150253913957112},      {30, 0.025, -2.0422724563012382836},
      {30, 0.6, 0.25560536495191271444},    {1000, 0.975, 1.9623390808264081039},  {1000, 0.995, 2.5807546980659507706},
      {1000, 0.9, 1.282398721460924564},    {1000, 0.025, -1.9623390808264084612}, {1000, 0.6, 0.25341451583949870728},
      {2.5, 0.975, 3.5746548420036817607},  {2.5, 0.995, 7.1637281389487828791},   {2.5, 0.9, 1.730250928807176833},
      {2.5, 0.025, -3.5746548420036831273}, {2.5, 0.6, 0.28145951274854759175},    {1.5, 0.975, 6.0166631044279282546},
      {1.5, 0.995, 17.820310514462796682},  {1.5, 0.9, 2.1963984175655377638},     {1.5, 0.025, -6.0166631044279316927},
      {1.5, 0.6, 0.30074539256979535288},
  };
  for (const Point& p : points) {
    INFO("df " << p.df << ", p " << p.x);
    CHECK(*student_t_quantile(p.x, p.df) == Approx(p.expected).epsilon(1e-12));
  }
  CHECK(*student_t_quantile(0.5, 3.7) == 0);
  // Round trips far into the tails, and df = infinity is the normal quantile.
  for (double df : {1.0, 1.5, 3.0, 17.0, 400.0}) {
    for (double p : {1e-12, 1e-6, 0.2, 0.999999}) {
      INFO("df " << df << ", p " << p);
      CHECK(*student_t_cdf(*student_t_quantile(p, df), df) == Approx(p).epsilon(1e-9));
    }
  }
  CHECK(*student_t_quantile(0.975, std::numeric_limits<double>::infinity()) ==
        Approx(1.9599639845400538556).epsilon(1e-13));
}

TEST_CASE("the binomial CDF matches mpmath", "[stats]") {
  // scipy.stats.binom.cdf agrees to ~1e-13 except at 700/1000, p = 0.7 (2.5e-14 absolute off).
  CHECK(*binomial_cdf(3, 10, 0.3) == Approx(0.64961071840000002962).epsilon(1e-12));
  CHECK(*binomial_cdf(50, 100, 0.5) == Approx(0.53979461869358938075).epsilon(1e-12));
  CHECK(*binomial_cdf(10, 1000, 0.02) == Approx(0.010236548159763444341).epsilon(1e-11));
  CHECK(*binomial_cdf(700, 1000, 0.7) == Approx(0.51192748400714965134).epsilon(1e-11));
  CHECK(*binomial_cdf(998, 1000, 0.999) == Approx(0.26424108696981301438).epsilon(1e-11));
  CHECK(*binomial_cdf(0, 20, 0.1) == Approx(0.12157665459056927301).epsilon(1e-13));
  CHECK(*binomial_cdf(40, 100, 0.6) == Approx(0.000042466387057294964438).epsilon(1e-11));
  CHECK(*binomial_cdf(10, 10, 0.3) == 1);
  CHECK(*binomial_cdf(12, 10, 0.3) == 1);
  CHECK(*binomial_cdf(3, 10, 0) == 1);
  CHECK(*binomial_cdf(3, 10, 1) == 0);
}

TEST_CASE("the exact binomial test of p = 1/2 matches SciPy, statsmodels and mpmath", "[stats]") {
  // Small counts: exact rationals, which scipy.stats.binomtest(b, b + c, 0.5).pvalue and
  // statsmodels.stats.contingency_tables.mcnemar([[0, b], [c, 0]], exact=True).pvalue both print.
  CHECK(binomial_test_half(10, 2) == Approx(0.03857421875).epsilon(1e-14));  // 2 * 79 / 4096
  CHECK(binomial_test_half(0, 0) == 1);
  CHECK(binomial_test_half(5, 5) == 1);
  CHECK(binomial_test_half(3, 4) == 1);
  CHECK(binomial_test_half(1, 0) == 1);
  CHECK(binomial_test_half(0, 7) == Approx(0.015625).epsilon(1e-14));  // 2 / 128
  // mpmath, 40 digits (SciPy and statsmodels agree to 1e-15: 0.0003249142318964005, ...).
  CHECK(binomial_test_half(25, 5) == Approx(0.00032491423189640045166).epsilon(1e-12));
  CHECK(binomial_test_half(60, 40) == Approx(0.05688793364098079167).epsilon(1e-12));
  CHECK(binomial_test_half(200, 260) == Approx(0.0058839224731039789867).epsilon(1e-11));
  // n = 10^6, mpmath at 50 digits: the term at min(b, c) from loggamma, then summed downward.
  // SciPy and statsmodels print 0.5491729059131276 and 0.045608299865389515 (up to 1.6e-13 off). Here
  // lgamma(10^6) ~ 1.3e7 cancels down to a number of order 10, which costs ~1e-9 relative: the
  // tolerance is 1e-7.
  CHECK(binomial_test_half(500'300, 499'700) == Approx(0.54917290591311875609).epsilon(1e-7));
  CHECK(binomial_test_half(501'000, 499'000) == Approx(0.04560829986538208642).epsilon(1e-7));
}
