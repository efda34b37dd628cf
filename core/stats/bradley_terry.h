// Bradley–Terry ranking of models from pairwise outcomes (a judge or people preferring one of two
// answers), with bootstrap percentile intervals. Model i beats model j with probability
// p_i / (p_i + p_j); p is fitted by maximum likelihood with Hunter's MM algorithm ("MM algorithms
// for generalized Bradley-Terry models", Annals of Statistics 32(1), 2004).
//
// Input is aggregated counts per pair of models, so memory is O(models^2) however many
// comparisons there were, and the bootstrap draws each resample as one multinomial over the
// outcome cells (equivalent to resampling the N comparisons with replacement) in O(cells).
//
// Strength is the log-strength log p_i, centred so that its mean over the models is 0: a
// difference s_i - s_j is the log-odds of i beating j. A tie counts as half a win for each side.
//
// Every pair of models that was compared at least once also gets one virtual tie (half a win to
// each side). Without it a model that wins (or loses) every comparison, or any group of models
// that beats everyone outside it, has no finite maximum-likelihood estimate (Hunter 2004,
// Assumption 1) and MM drifts to infinity. With it the estimate always exists on a connected
// graph, also in every bootstrap resample (the virtual ties follow the observed pairs, not the
// resample). It is the Haldane–Anscombe correction (add 1/2 to each cell of a 2 x 2 table before
// taking log-odds): with two models, s_1 - s_2 = log((w_1 + 1/2) / (w_2 + 1/2)), wins counting
// half of each tie. Like BayesElo's virtual draws it shrinks strengths towards 0 a little, by
// about one comparison's worth per pair: noticeable at 10 comparisons a pair, not at 1,000.
//
// Pure functions; thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

namespace llmeval::stats {

// Outcomes of the comparisons between models `first` and `second` (indexes below `models`).
// Several records may name the same pair, in either order: their counts add up. A record of a
// model against itself carries no information and is ignored.
struct PairRecord {
  std::size_t first = 0;
  std::size_t second = 0;
  std::int64_t first_wins = 0;
  std::int64_t second_wins = 0;
  std::int64_t ties = 0;
};

struct BradleyTerryRating {
  double strength = 0;  // log-strength, mean 0 over the models
  double low = 0;       // bootstrap percentile interval of the strength
  double high = 0;
};

// The strengths alone, indexed by model. nullopt with fewer than 2 models, a record naming a
// model >= `models` or holding a negative count, or a comparison graph that is not connected (a
// model never compared, or groups never compared with each other: their relative strength is
// not identified).
std::optional<std::vector<double>> bradley_terry_strengths(std::size_t models, std::span<const PairRecord> pairs);

// The strengths with percentile intervals at `confidence` (0.95 for 95%) from `resamples`
// bootstrap refits: the [(1 - c) / 2, (1 + c) / 2] quantiles of each model's resampled strengths,
// linearly interpolated between order statistics. The resampling uses std::mt19937_64 seeded with
// `seed` and std::binomial_distribution, so the same inputs give the same intervals with the same
// standard library. nullopt as for bradley_terry_strengths, and when the confidence is not
// strictly between 0 and 1 or resamples < 1.
std::optional<std::vector<BradleyTerryRating>> bradley_terry(std::size_t models, std::span<const PairRecord> pairs,
                                                             double confidence, int resamples, std::uint64_t seed);

}  // namespace llmeval::stats
