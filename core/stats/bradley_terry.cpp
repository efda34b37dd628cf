#include "core/stats/bradley_terry.h"

#include <algorithm>
#include <cmath>
#include <random>

namespace llmeval::stats {
namespace {

// MM stops when no log-strength moves by more than kTolerance in a step; kMaxIterations bounds
// the work if it creeps (the virtual ties keep the problem well-posed, so it converges linearly;
// a strongly lopsided graph converges slowly, and the last iterate is then returned).
constexpr double kTolerance = 1e-10;
constexpr int kMaxIterations = 10000;
constexpr double kVirtualTieWins = 0.5;  // per side, per compared pair: see the header

// `count` comparisons in which `a` beat `b`, or, when `tie`, a and b drew.
struct Cell {
  std::size_t a = 0;
  std::size_t b = 0;
  bool tie = false;
  std::int64_t count = 0;
};

struct Comparisons {
  std::size_t models = 0;
  std::vector<Cell> cells;     // the non-empty outcome cells
  std::vector<char> compared;  // models x models, symmetric: the pair met at least once
  std::int64_t total = 0;      // comparisons, N
};

std::optional<Comparisons> collect(std::size_t models, std::span<const PairRecord> pairs) {
  Comparisons data;
  data.models = models;
  data.compared.assign(models * models, 0);
  for (const PairRecord& r : pairs) {
    if (r.first >= models || r.second >= models) return std::nullopt;
    if (r.first_wins < 0 || r.second_wins < 0 || r.ties < 0) return std::nullopt;
    if (r.first == r.second) continue;
    const Cell cells[] = {{r.first, r.second, false, r.first_wins},
                          {r.second, r.first, false, r.second_wins},
                          {r.first, r.second, true, r.ties}};
    for (const Cell& cell : cells) {
      if (cell.count == 0) continue;
      data.cells.push_back(cell);
      data.total += cell.count;
      data.compared[cell.a * models + cell.b] = data.compared[cell.b * models + cell.a] = 1;
    }
  }
  return data;
}

// Whether every model is reachable from model 0 through compared pairs: otherwise the strengths
// of the separate groups have no common scale.
bool connected(const Comparisons& data) {
  std::vector<char> seen(data.models, 0);
  std::vector<std::size_t> stack = {0};
  seen[0] = 1;
  std::size_t reached = 1;
  while (!stack.empty()) {
    const std::size_t i = stack.back();
    stack.pop_back();
    for (std::size_t j = 0; j < data.models; ++j) {
      if (seen[j] || !data.compared[i * data.models + j]) continue;
      seen[j] = 1;
      ++reached;
      stack.push_back(j);
    }
  }
  return reached == data.models;
}

// wins[i * models + j]: the wins of i over j, each tie half a win for both, plus the virtual ties.
std::vector<double> wins_matrix(const Comparisons& data, std::span<const std::int64_t> counts) {
  const std::size_t m = data.models;
  std::vector<double> wins(m * m, 0.0);
  for (std::size_t c = 0; c < data.cells.size(); ++c) {
    const Cell& cell = data.cells[c];
    const double count = static_cast<double>(counts[c]);
    if (cell.tie) {
      wins[cell.a * m + cell.b] += count / 2;
      wins[cell.b * m + cell.a] += count / 2;
    } else {
      wins[cell.a * m + cell.b] += count;
    }
  }
  for (std::size_t i = 0; i < m * m; ++i) {
    if (data.compared[i]) wins[i] += kVirtualTieWins;
  }
  return wins;
}

// Subtracts the mean, the identifiability constraint of the header.
void centre(std::vector<double>& strengths) {
  double mean = 0;
  for (const double s : strengths) mean += s;
  mean /= static_cast<double>(strengths.size());
  for (double& s : strengths) s -= mean;
}

// Hunter's MM update for all models at once from the previous iterate,
//   p_i <- W_i / sum_{j != i} n_ij / (p_i + p_j),
// W_i the wins of i and n_ij the comparisons of i and j; each step cannot lower the likelihood.
// Works in log-strengths, recentred every step so p stays near 1 and far from overflow.
std::vector<double> fit(std::size_t m, const std::vector<double>& wins, std::vector<double> strengths) {
  std::vector<double> total_wins(m, 0.0), p(m), next(m);
  for (std::size_t i = 0; i < m; ++i) {
    for (std::size_t j = 0; j < m; ++j) total_wins[i] += wins[i * m + j];
  }
  for (int iteration = 0; iteration < kMaxIterations; ++iteration) {
    for (std::size_t i = 0; i < m; ++i) p[i] = std::exp(strengths[i]);
    for (std::size_t i = 0; i < m; ++i) {
      double denominator = 0;
      for (std::size_t j = 0; j < m; ++j) {
        const double n = wins[i * m + j] + wins[j * m + i];
        if (j != i && n > 0) denominator += n / (p[i] + p[j]);
      }
      next[i] = std::log(total_wins[i] / denominator);
    }
    centre(next);
    double change = 0;
    for (std::size_t i = 0; i < m; ++i) change = std::max(change, std::abs(next[i] - strengths[i]));
    strengths.swap(next);
    if (change < kTolerance) break;
  }
  return strengths;
}

// Draws the outcome counts of N comparisons resampled with replacement: a multinomial over the
// cells with probabilities count / N, as a chain of binomials (each cell takes its share of the
// draws the cells before it left).
std::vector<std::int64_t> resample(const Comparisons& data, std::mt19937_64& random) {
  std::vector<std::int64_t> counts(data.cells.size(), 0);
  std::int64_t draws_left = data.total, mass_left = data.total;
  for (std::size_t c = 0; c < data.cells.size() && draws_left > 0; ++c) {
    const std::int64_t count = data.cells[c].count;
    if (count >= mass_left) {
      counts[c] = draws_left;  // the last cell with mass takes what is left
      break;
    }
    const double share = static_cast<double>(count) / static_cast<double>(mass_left);
    counts[c] = std::binomial_distribution<std::int64_t>(draws_left, share)(random);
    draws_left -= counts[c];
    mass_left -= count;
  }
  return counts;
}

// The q-quantile of sorted values, interpolating linearly between order statistics (Hyndman and
// Fan's type 7, the default of R and NumPy).
double quantile(const std::vector<double>& sorted, double q) {
  const double h = q * static_cast<double>(sorted.size() - 1);
  const auto below = static_cast<std::size_t>(std::floor(h));
  if (below + 1 >= sorted.size()) return sorted.back();
  return sorted[below] + (h - static_cast<double>(below)) * (sorted[below + 1] - sorted[below]);
}

std::optional<Comparisons> connected_comparisons(std::size_t models, std::span<const PairRecord> pairs) {
  if (models < 2) return std::nullopt;
  std::optional<Comparisons> data = collect(models, pairs);
  if (!data || !connected(*data)) return std::nullopt;
  return data;
}

std::vector<std::int64_t> observed_counts(const Comparisons& data) {
  std::vector<std::int64_t> counts;
  for (const Cell& cell : data.cells) counts.push_back(cell.count);
  return counts;
}

}  // namespace

std::optional<std::vector<double>> bradley_terry_strengths(std::size_t models, std::span<const PairRecord> pairs) {
  const std::optional<Comparisons> data = connected_comparisons(models, pairs);
  if (!data) return std::nullopt;
  return fit(models, wins_matrix(*data, observed_counts(*data)), std::vector<double>(models, 0.0));
}

std::optional<std::vector<BradleyTerryRating>> bradley_terry(std::size_t models, std::span<const PairRecord> pairs,
                                                             double confidence, int resamples, std::uint64_t seed) {
  if (!(confidence > 0 && confidence < 1) || resamples < 1) return std::nullopt;
  const std::optional<Comparisons> data = connected_comparisons(models, pairs);
  if (!data) return std::nullopt;
  const std::vector<double> estimate = fit(models, wins_matrix(*data, observed_counts(*data)),
                                           std::vector<double>(models, 0.0));

  // by_model[i]: model i's strength in each resample. Each refit starts from the estimate, near
  // where it ends, so it takes few MM steps.
  std::vector<std::vector<double>> by_model(models);
  std::mt19937_64 random(seed);
  for (int r = 0; r < resamples; ++r) {
    const std::vector<double> refit = fit(models, wins_matrix(*data, resample(*data, random)), estimate);
    for (std::size_t i = 0; i < models; ++i) by_model[i].push_back(refit[i]);
  }
  std::vector<BradleyTerryRating> ratings(models);
  for (std::size_t i = 0; i < models; ++i) {
    std::sort(by_model[i].begin(), by_model[i].end());
    ratings[i] = {estimate[i], quantile(by_model[i], (1 - confidence) / 2),
                  quantile(by_model[i], (1 + confidence) / 2)};
  }
  return ratings;
}

}  // namespace llmeval::stats
