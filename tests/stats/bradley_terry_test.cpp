// Bradley–Terry strengths against values computed outside the code under test: a plain-Python
// Newton–Raphson maximisation of the same log-likelihood (not the MM algorithm under test), with
// the same one virtual tie per compared pair, centred to mean 0 (run in this session, printed
// with repr); and the closed form for two models, s_1 - s_2 = log((w_1 + 1/2) / (w_2 + 1/2)).
// The bootstrap is checked for its properties: reproducible from the seed, intervals around the
// estimate, nested by confidence.
#include "core/stats/bradley_terry.h"

#include <catch2/catch.hpp>

#include <cmath>
#include <vector>

using llmeval::stats::bradley_terry;
using llmeval::stats::bradley_terry_strengths;
using llmeval::stats::BradleyTerryRating;
using llmeval::stats::PairRecord;

namespace {

// Model 0 beats 1 7-3 with 2 ties, 1 beats 2 6-4, 0 beats 2 8-2 with 1 tie.
const std::vector<PairRecord> kThree = {{0, 1, 7, 3, 2}, {1, 2, 6, 4, 0}, {0, 2, 8, 2, 1}};

// A clear order 3 > 2 > 1 > 0, every pair compared; model 3 never loses (no finite plain MLE).
const std::vector<PairRecord> kFour = {{3, 0, 30, 0, 0}, {3, 1, 25, 0, 5}, {3, 2, 20, 0, 4},
                                       {2, 1, 22, 8, 2}, {2, 0, 27, 3, 0}, {1, 0, 19, 11, 3}};

}  // namespace

TEST_CASE("Bradley-Terry strengths of three models match a Newton-Raphson fit", "[stats][bradley_terry]") {
  const auto strengths = bradley_terry_strengths(3, kThree);
  REQUIRE(strengths);
  REQUIRE(strengths->size() == 3);
  // Python (Newton-Raphson, virtual ties): 0.5754946869841, -0.08844419015970806, -0.487050496824392.
  CHECK((*strengths)[0] == Approx(0.5754946869841).margin(1e-8));
  CHECK((*strengths)[1] == Approx(-0.08844419015970806).margin(1e-8));
  CHECK((*strengths)[2] == Approx(-0.487050496824392).margin(1e-8));

  // The same outcomes split over records in either order add up to the same fit; a model's
  // record against itself is ignored.
  const std::vector<PairRecord> split = {
      {0, 1, 4, 1, 2}, {1, 0, 2, 3, 0}, {2, 1, 4, 6, 0}, {0, 2, 8, 2, 1}, {1, 1, 5, 5, 5}};
  const auto same = bradley_terry_strengths(3, split);
  REQUIRE(same);
  for (std::size_t i = 0; i < 3; ++i) CHECK((*same)[i] == Approx((*strengths)[i]).margin(1e-9));
}

TEST_CASE("Bradley-Terry with two models is the Haldane-Anscombe log-odds, finite for a model that never loses",
          "[stats][bradley_terry]") {
  // 9 wins, no loss, 2 ties: wins 10 and 1 counting half of each tie; closed form
  // log((10 + 0.5) / (1 + 0.5)) / 2 = 0.9729550745276566 each side of 0.
  const std::vector<PairRecord> pairs = {{0, 1, 9, 0, 2}};
  const auto strengths = bradley_terry_strengths(2, pairs);
  REQUIRE(strengths);
  CHECK((*strengths)[0] == Approx(0.9729550745276566).margin(1e-9));
  CHECK((*strengths)[1] == Approx(-0.9729550745276566).margin(1e-9));
}

TEST_CASE("Bradley-Terry orders models by their record and centres the strengths", "[stats][bradley_terry]") {
  const auto strengths = bradley_terry_strengths(4, kFour);
  REQUIRE(strengths);
  for (const double s : *strengths) CHECK(std::isfinite(s));
  CHECK((*strengths)[3] > (*strengths)[2]);
  CHECK((*strengths)[2] > (*strengths)[1]);
  CHECK((*strengths)[1] > (*strengths)[0]);
  double sum = 0;
  for (const double s : *strengths) sum += s;
  CHECK(sum == Approx(0.0).margin(1e-12));
}

TEST_CASE("Bradley-Terry bootstrap intervals are reproducible and contain the estimate", "[stats][bradley_terry]") {
  const auto ratings = bradley_terry(4, kFour, 0.95, 300, 42);
  REQUIRE(ratings);
  REQUIRE(ratings->size() == 4);
  const auto strengths = bradley_terry_strengths(4, kFour);
  for (std::size_t i = 0; i < 4; ++i) {
    const BradleyTerryRating& r = (*ratings)[i];
    CHECK(r.strength == (*strengths)[i]);
    CHECK(r.low < r.strength);
    CHECK(r.strength < r.high);
  }

  SECTION("the same seed gives the same intervals, another seed others") {
    const auto again = bradley_terry(4, kFour, 0.95, 300, 42);
    const auto other = bradley_terry(4, kFour, 0.95, 300, 43);
    REQUIRE(again);
    REQUIRE(other);
    bool differs = false;
    for (std::size_t i = 0; i < 4; ++i) {
      CHECK((*again)[i].low == (*ratings)[i].low);
      CHECK((*again)[i].high == (*ratings)[i].high);
      differs = differs || (*other)[i].low != (*ratings)[i].low || (*other)[i].high != (*ratings)[i].high;
    }
    CHECK(differs);
  }
  SECTION("a lower confidence gives a narrower interval inside it (same resamples)") {
    const auto half = bradley_terry(4, kFour, 0.5, 300, 42);
    REQUIRE(half);
    for (std::size_t i = 0; i < 4; ++i) {
      CHECK((*half)[i].low >= (*ratings)[i].low);
      CHECK((*half)[i].high <= (*ratings)[i].high);
      CHECK((*half)[i].low <= (*half)[i].high);
    }
  }
}

TEST_CASE("Bradley-Terry is undefined without a connected comparison graph or with bad input",
          "[stats][bradley_terry]") {
  const std::vector<PairRecord> two_groups = {{0, 1, 5, 3, 0}, {2, 3, 4, 4, 1}};
  CHECK_FALSE(bradley_terry_strengths(4, two_groups));
  CHECK_FALSE(bradley_terry(4, two_groups, 0.95, 100, 1));
  CHECK_FALSE(bradley_terry_strengths(4, kThree));  // model 3 never compared
  const std::vector<PairRecord> empty_pair = {{0, 1, 5, 3, 0}, {1, 2, 0, 0, 0}};
  CHECK_FALSE(bradley_terry_strengths(3, empty_pair));  // a record with no comparison links nothing
  CHECK_FALSE(bradley_terry_strengths(1, {}));
  CHECK_FALSE(bradley_terry_strengths(3, std::vector<PairRecord>{{0, 3, 1, 1, 0}}));   // no model 3
  CHECK_FALSE(bradley_terry_strengths(2, std::vector<PairRecord>{{0, 1, -1, 2, 0}}));  // negative count
  CHECK_FALSE(bradley_terry(3, kThree, 1.0, 100, 1));
  CHECK_FALSE(bradley_terry(3, kThree, 0.95, 0, 1));
}
