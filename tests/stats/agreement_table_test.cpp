// AgreementTable against values computed outside the code under test: a plain-Python
// transcription of the textbook formulas over the item lists, not over a table (shares by
// counting items, kappa from the contingency proportions, ranks as the mean of a value's positions
// in the sorted list, tau-b over all pairs; run in this session, printed with repr). And against
// the span functions of agreement.h on seeded random data: the table must give their results.
#include "core/stats/agreement_table.h"

#include <catch2/catch.hpp>

#include <optional>
#include <random>
#include <vector>

#include "core/stats/agreement.h"

using llmeval::stats::AgreementTable;
using llmeval::stats::KappaWeights;

namespace {

// A judge's 1-5 scores and a person's labels of the same 14 rows, with ties and two far misses.
const std::vector<int> kJudge = {1, 2, 3, 4, 5, 3, 2, 4, 5, 1, 3, 3, 5, 1};
const std::vector<int> kHuman = {1, 3, 3, 4, 4, 3, 1, 5, 5, 2, 2, 3, 2, 4};

AgreementTable table_of(const std::vector<int>& a, const std::vector<int>& b, int min, int max) {
  AgreementTable table(min, max);
  for (std::size_t i = 0; i < a.size(); ++i) table.add(a[i], b[i]);
  return table;
}

// Both undefined, or both defined and equal to rounding.
void check_same(std::optional<double> table, std::optional<double> spans) {
  REQUIRE(table.has_value() == spans.has_value());
  if (table) CHECK(*table == Approx(*spans).epsilon(1e-12).margin(1e-12));
}

}  // namespace

TEST_CASE("AgreementTable counts items inside min..max only", "[stats][agreement]") {
  AgreementTable table(1, 5);
  CHECK(table.n() == 0);
  CHECK_FALSE(table.exact());
  CHECK_FALSE(table.kappa(KappaWeights::kNone));
  table.add(1, 1);
  table.add(5, 4);
  table.add(5, 4);
  table.add(0, 3);  // outside: not counted
  table.add(3, 6);
  CHECK(table.n() == 3);
  CHECK(table.count(5, 4) == 2);
  CHECK(table.count(1, 1) == 1);
  CHECK(table.count(0, 3) == 0);
  CHECK(table.min() == 1);
  CHECK(table.max() == 5);

  AgreementTable other(1, 5);
  other.add(5, 4);
  CHECK(table.merge(other));
  CHECK(table.count(5, 4) == 3);
  CHECK(table.n() == 4);
  CHECK_FALSE(table.merge(AgreementTable(0, 1)));  // different categories: nothing added
  CHECK(table.n() == 4);

  AgreementTable empty(5, 1);  // no categories
  empty.add(3, 3);
  CHECK(empty.n() == 0);
}

TEST_CASE("AgreementTable statistics match the textbook formulas over the items", "[stats][agreement]") {
  const AgreementTable table = table_of(kJudge, kHuman, 1, 5);
  REQUIRE(table.n() == 14);
  // Python: exact 0.42857142857142855 (6/14), within one 0.8571428571428571 (12/14).
  CHECK(*table.exact() == Approx(0.42857142857142855).epsilon(1e-12));
  CHECK(*table.within_one() == Approx(0.8571428571428571).epsilon(1e-12));
  // Python: kappa 0.2820512820512824 unweighted, 0.52 quadratic.
  CHECK(*table.kappa(KappaWeights::kNone) == Approx(0.2820512820512824).epsilon(1e-12));
  CHECK(*table.kappa(KappaWeights::kQuadratic) == Approx(0.52).epsilon(1e-12));
  // Python: rho 0.5172413793103449, tau-b 0.44155844155844154.
  CHECK(*table.spearman() == Approx(0.5172413793103449).epsilon(1e-12));
  CHECK(*table.kendall_tau_b() == Approx(0.44155844155844154).epsilon(1e-12));

  // A constant side, and a single item: no rank correlation.
  const AgreementTable flat = table_of({1, 2, 3, 4}, {2, 2, 2, 2}, 1, 5);
  CHECK_FALSE(flat.spearman());
  CHECK_FALSE(flat.kendall_tau_b());
  const AgreementTable one = table_of({3}, {4}, 1, 5);
  CHECK_FALSE(one.spearman());
  CHECK_FALSE(one.kendall_tau_b());
  CHECK(*one.within_one() == Approx(1.0));
}

TEST_CASE("AgreementTable equals the span functions on seeded random scores", "[stats][agreement]") {
  struct Scale {
    int min, max;
  };
  const Scale scales[] = {{0, 1}, {1, 5}, {1, 10}};
  std::mt19937_64 random(20240917);
  for (const Scale scale : scales) {
    for (const std::size_t size : {std::size_t{1}, std::size_t{2}, std::size_t{3}, std::size_t{17}, std::size_t{400}}) {
      // mode 0: independent raters; 1: the second rater mostly agrees; 2: the second is constant.
      for (int mode = 0; mode < 3; ++mode) {
        std::uniform_int_distribution<int> score(scale.min, scale.max);
        std::bernoulli_distribution agree(0.7);
        std::vector<int> a, b;
        std::vector<double> da, db;
        for (std::size_t i = 0; i < size; ++i) {
          const int x = score(random);
          const int y = mode == 2 ? scale.max : (mode == 1 && agree(random) ? x : score(random));
          a.push_back(x);
          b.push_back(y);
          da.push_back(x);
          db.push_back(y);
        }
        const AgreementTable table = table_of(a, b, scale.min, scale.max);
        INFO("scale " << scale.min << ".." << scale.max << ", " << size << " items, mode " << mode);
        check_same(table.kappa(KappaWeights::kNone),
                   llmeval::stats::cohen_kappa(da, db, scale.min, scale.max, KappaWeights::kNone));
        check_same(table.kappa(KappaWeights::kQuadratic),
                   llmeval::stats::cohen_kappa(da, db, scale.min, scale.max, KappaWeights::kQuadratic));
        check_same(table.spearman(), llmeval::stats::spearman_rho(da, db));
        check_same(table.kendall_tau_b(), llmeval::stats::kendall_tau_b(da, db));
        if (mode == 2) {
          CHECK_FALSE(table.spearman());
          CHECK_FALSE(table.kendall_tau_b());
        }
      }
    }
  }
}
