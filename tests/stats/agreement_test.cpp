// Agreement statistics against values computed outside the code under test: a plain-Python
// transcription of the textbook formulas (contingency-table kappa, ranks by position in the
// sorted list, tau-b over all pairs; run in this session, printed with repr), and Wikipedia's
// worked example of Cohen's kappa ("Cohen's kappa", Simple example: kappa = 0.4).
#include "core/stats/agreement.h"

#include <catch2/catch.hpp>

#include <vector>

using llmeval::stats::cohen_kappa;
using llmeval::stats::KappaWeights;
using llmeval::stats::kendall_tau_b;
using llmeval::stats::spearman_rho;

namespace {

// A judge's 1-5 scores and a person's labels of the same 12 rows, with ties on both sides.
const std::vector<double> kJudge = {1, 2, 3, 4, 5, 3, 2, 4, 5, 1, 3, 3};
const std::vector<double> kHuman = {1, 3, 3, 4, 4, 3, 1, 5, 5, 2, 2, 3};

}  // namespace

TEST_CASE("Cohen's kappa: Wikipedia's worked example, binary and 1-5 with quadratic weights", "[stats][agreement]") {
  // Wikipedia: 50 proposals, both yes 20, A yes B no 5, A no B yes 10, both no 15: kappa 0.4.
  std::vector<double> a, b;
  auto add = [&](int count, double x, double y) {
    for (int i = 0; i < count; ++i) {
      a.push_back(x);
      b.push_back(y);
    }
  };
  add(20, 1, 1);
  add(5, 1, 0);
  add(10, 0, 1);
  add(15, 0, 0);
  CHECK(*cohen_kappa(a, b, 0, 1, KappaWeights::kNone) == Approx(0.4).epsilon(1e-12));

  // Python: p_o 0.8, p_e 0.52 -> 0.5833333333333333.
  const std::vector<double> x = {1, 0, 1, 1, 0, 1, 0, 0, 1, 1}, y = {1, 0, 0, 1, 0, 1, 1, 0, 1, 1};
  CHECK(*cohen_kappa(x, y, 0, 1, KappaWeights::kNone) == Approx(0.5833333333333333).epsilon(1e-12));

  // Python: unweighted 0.3571428571428572, quadratic 0.85: near misses count as near agreement.
  CHECK(*cohen_kappa(kJudge, kHuman, 1, 5, KappaWeights::kNone) == Approx(0.3571428571428572).epsilon(1e-12));
  CHECK(*cohen_kappa(kJudge, kHuman, 1, 5, KappaWeights::kQuadratic) == Approx(0.85).epsilon(1e-12));

  CHECK(*cohen_kappa(kJudge, kJudge, 1, 5, KappaWeights::kQuadratic) == Approx(1.0));
  const std::vector<double> same = {3, 3, 3};
  CHECK_FALSE(cohen_kappa(same, same, 1, 5, KappaWeights::kNone));  // chance agreement is already perfect
  CHECK_FALSE(cohen_kappa({}, {}, 1, 5, KappaWeights::kNone));
}

TEST_CASE("Spearman's rho and Kendall's tau-b with ties", "[stats][agreement]") {
  // Python: rho 0.875, tau-b 0.7678571428571429.
  CHECK(*spearman_rho(kJudge, kHuman) == Approx(0.875).epsilon(1e-12));
  CHECK(*kendall_tau_b(kJudge, kHuman) == Approx(0.7678571428571429).epsilon(1e-12));
  const std::vector<double> up = {1, 2, 3, 4}, down = {4, 3, 2, 1}, flat = {2, 2, 2, 2};
  CHECK(*spearman_rho(up, down) == Approx(-1.0));
  CHECK(*kendall_tau_b(up, up) == Approx(1.0));
  CHECK_FALSE(spearman_rho(up, flat));
  CHECK_FALSE(kendall_tau_b(up, flat));
  CHECK_FALSE(kendall_tau_b({}, {}));
}
