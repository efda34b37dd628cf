#include "core/stats/agreement.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

#include "core/stats/agreement_table.h"

namespace llmeval::stats {
namespace {

// Average ranks, 1-based: tied values share the mean of the ranks they span.
std::vector<double> average_ranks(std::span<const double> values) {
  std::vector<std::size_t> order(values.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::sort(order.begin(), order.end(), [&](std::size_t x, std::size_t y) { return values[x] < values[y]; });
  std::vector<double> ranks(values.size());
  for (std::size_t i = 0; i < order.size();) {
    std::size_t j = i;
    while (j + 1 < order.size() && values[order[j + 1]] == values[order[i]]) ++j;
    const double rank = (static_cast<double>(i) + static_cast<double>(j)) / 2 + 1;
    for (std::size_t k = i; k <= j; ++k) ranks[order[k]] = rank;
    i = j + 1;
  }
  return ranks;
}

}  // namespace

std::optional<double> cohen_kappa(std::span<const double> a, std::span<const double> b, int min, int max,
                                  KappaWeights weights) {
  if (a.size() != b.size() || max < min) return std::nullopt;
  // One definition of kappa: the table's. Range-check in double before the cast to int, which
  // would be undefined for a score far outside int (and NaN fails both comparisons).
  AgreementTable table(min, max);
  for (std::size_t i = 0; i < a.size(); ++i) {
    const double x = std::round(a[i]), y = std::round(b[i]);
    if (!(x >= min && x <= max && y >= min && y <= max)) continue;
    table.add(static_cast<int>(x), static_cast<int>(y));
  }
  return table.kappa(weights);
}

std::optional<double> spearman_rho(std::span<const double> a, std::span<const double> b) {
  if (a.size() != b.size() || a.size() < 2) return std::nullopt;
  const std::vector<double> ra = average_ranks(a), rb = average_ranks(b);
  const double n = static_cast<double>(a.size());
  const double mean = (n + 1) / 2;  // of any average ranks
  double sab = 0, saa = 0, sbb = 0;
  for (std::size_t i = 0; i < ra.size(); ++i) {
    sab += (ra[i] - mean) * (rb[i] - mean);
    saa += (ra[i] - mean) * (ra[i] - mean);
    sbb += (rb[i] - mean) * (rb[i] - mean);
  }
  if (saa == 0 || sbb == 0) return std::nullopt;
  return sab / std::sqrt(saa * sbb);
}

std::optional<double> kendall_tau_b(std::span<const double> a, std::span<const double> b) {
  if (a.size() != b.size() || a.size() < 2) return std::nullopt;
  double concordant = 0, discordant = 0, tied_a = 0, tied_b = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    for (std::size_t j = i + 1; j < a.size(); ++j) {
      const double da = a[i] - a[j], db = b[i] - b[j];
      if (da == 0) tied_a += 1;
      if (db == 0) tied_b += 1;
      if (da == 0 || db == 0) continue;
      (da * db > 0 ? concordant : discordant) += 1;
    }
  }
  const double n = static_cast<double>(a.size());
  const double pairs = n * (n - 1) / 2;
  const double denominator = std::sqrt((pairs - tied_a) * (pairs - tied_b));
  if (denominator == 0) return std::nullopt;
  return (concordant - discordant) / denominator;
}

}  // namespace llmeval::stats
