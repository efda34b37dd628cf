// KrippendorffAlpha against published worked examples and a plain-Python transcription of the
// coincidence-matrix formulas of Krippendorff, "Computing Krippendorff's Alpha-Reliability" (2011)
// (o_ck summed over the ordered pairs of each unit, then alpha = 1 - D_o / D_e; run in this
// session, printed with repr):
//   - the paper's example with missing data (section C, p. 8: 4 observers, 12 units): published
//     nominal alpha = 0.743 and interval alpha = 0.849; Python 0.743421052631579 and
//     0.8491071428571428;
//   - Wikipedia's "Krippendorff's alpha", A computational example (3 coders, 15 units): published
//     nominal alpha = 0.691; Python 0.691358024691358, interval 0.8108448928121059.
#include "core/stats/krippendorff.h"

#include <catch2/catch.hpp>

#include <optional>
#include <vector>

using llmeval::stats::KrippendorffAlpha;
using Metric = llmeval::stats::KrippendorffAlpha::Metric;

namespace {

constexpr std::nullopt_t kMissing = std::nullopt;
using Coder = std::vector<std::optional<int>>;

// Reliability data as printed, a row per coder; fed to the alpha a unit (column) at a time.
KrippendorffAlpha alpha_of(const std::vector<Coder>& coders, int min, int max, Metric metric) {
  KrippendorffAlpha alpha(min, max, metric);
  for (std::size_t unit = 0; unit < coders.front().size(); ++unit) {
    std::vector<std::optional<int>> values;
    for (const Coder& coder : coders) values.push_back(coder[unit]);
    alpha.add_unit(values);
  }
  return alpha;
}

const std::vector<Coder> kPaper = {
    {1, 2, 3, 3, 2, 1, 4, 1, 2, kMissing, kMissing, kMissing},  // observer A
    {1, 2, 3, 3, 2, 2, 4, 1, 2, 5, kMissing, 3},                // B
    {kMissing, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, kMissing},         // C
    {1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, kMissing},                // D
};

}  // namespace

TEST_CASE("Krippendorff's alpha: the 2011 paper's example with missing data", "[stats][krippendorff]") {
  const KrippendorffAlpha nominal = alpha_of(kPaper, 1, 5, Metric::kNominal);
  CHECK(nominal.units() == 11);  // unit 12 has one value: not pairable
  CHECK(*nominal.alpha() == Approx(0.743).margin(0.0005));
  CHECK(*nominal.alpha() == Approx(0.743421052631579).epsilon(1e-12));
  const KrippendorffAlpha interval = alpha_of(kPaper, 1, 5, Metric::kInterval);
  CHECK(*interval.alpha() == Approx(0.849).margin(0.0005));
  CHECK(*interval.alpha() == Approx(0.8491071428571428).epsilon(1e-12));
}

TEST_CASE("Krippendorff's alpha: Wikipedia's computational example", "[stats][krippendorff]") {
  const std::vector<Coder> coders = {
      {kMissing, kMissing, kMissing, kMissing, kMissing, 3, 4, 1, 2, 1, 1, 3, 3, kMissing, 3},
      {1, kMissing, 2, 1, 3, 3, 4, 3, kMissing, kMissing, kMissing, kMissing, kMissing, kMissing, kMissing},
      {kMissing, kMissing, 2, 1, 3, 4, 4, kMissing, 2, 1, 1, 3, 3, kMissing, 4},
  };
  const KrippendorffAlpha nominal = alpha_of(coders, 1, 4, Metric::kNominal);
  CHECK(nominal.units() == 12);
  CHECK(*nominal.alpha() == Approx(0.691).margin(0.0005));
  CHECK(*nominal.alpha() == Approx(0.691358024691358).epsilon(1e-12));
  CHECK(*alpha_of(coders, 1, 4, Metric::kInterval).alpha() == Approx(0.8108448928121059).epsilon(1e-12));
}

TEST_CASE("Krippendorff's alpha is 1 when every coder agrees on every unit", "[stats][krippendorff]") {
  const std::vector<Coder> coders = {
      {1, 2, 5, 3, kMissing},
      {1, 2, 5, kMissing, 4},
      {1, kMissing, 5, 3, 4},
  };
  CHECK(*alpha_of(coders, 1, 5, Metric::kNominal).alpha() == Approx(1.0));
  CHECK(*alpha_of(coders, 1, 5, Metric::kInterval).alpha() == Approx(1.0));
}

TEST_CASE("Krippendorff's alpha is undefined without pairable values or expected disagreement",
          "[stats][krippendorff]") {
  SECTION("every unit has at most one value") {
    const std::vector<Coder> coders = {
        {1, kMissing, kMissing}, {kMissing, 4, kMissing}, {kMissing, kMissing, 9},  // and 9 is outside 1..5: ignored
    };
    const KrippendorffAlpha alpha = alpha_of(coders, 1, 5, Metric::kNominal);
    CHECK(alpha.units() == 0);
    CHECK_FALSE(alpha.alpha());
  }
  SECTION("no unit at all") { CHECK_FALSE(KrippendorffAlpha(1, 5, Metric::kInterval).alpha()); }
  SECTION("every value the same: D_e = 0") {
    const std::vector<Coder> coders = {{3, 3, 3}, {3, 3, kMissing}};
    const KrippendorffAlpha alpha = alpha_of(coders, 1, 5, Metric::kNominal);
    CHECK(alpha.units() == 2);
    CHECK_FALSE(alpha.alpha());
  }
}

TEST_CASE("Krippendorff's alpha ignores values outside min..max", "[stats][krippendorff]") {
  // The paper's data with out-of-range values added where a value was missing: the same alpha.
  std::vector<Coder> coders = kPaper;
  coders[0][9] = 0;
  coders[2][11] = 7;
  const KrippendorffAlpha alpha = alpha_of(coders, 1, 5, Metric::kNominal);
  CHECK(alpha.units() == 11);
  CHECK(*alpha.alpha() == Approx(0.743421052631579).epsilon(1e-12));
}
