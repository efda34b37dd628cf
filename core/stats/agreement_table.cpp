#include "core/stats/agreement_table.h"

#include <cmath>
#include <cstdlib>

namespace llmeval::stats {

AgreementTable::AgreementTable(int min, int max) : min_(min), max_(max) {
  // In 64 bits: max - min overflows int for a range such as INT_MIN..INT_MAX.
  const std::int64_t k = std::int64_t{max} - std::int64_t{min} + 1;
  k_ = k > 0 ? static_cast<std::size_t>(k) : 0;
  counts_.assign(k_ * k_, 0);
}

std::size_t AgreementTable::index(int a, int b) const {
  return static_cast<std::size_t>(std::int64_t{a} - min_) * k_ + static_cast<std::size_t>(std::int64_t{b} - min_);
}

void AgreementTable::add(int a, int b) {
  if (k_ == 0 || a < min_ || a > max_ || b < min_ || b > max_) return;
  ++counts_[index(a, b)];
  ++n_;
}

bool AgreementTable::merge(const AgreementTable& other) {
  if (other.min_ != min_ || other.max_ != max_) return false;
  for (std::size_t i = 0; i < counts_.size(); ++i) counts_[i] += other.counts_[i];
  n_ += other.n_;
  return true;
}

std::int64_t AgreementTable::count(int a, int b) const {
  if (k_ == 0 || a < min_ || a > max_ || b < min_ || b > max_) return 0;
  return counts_[index(a, b)];
}

std::vector<double> AgreementTable::row_totals() const {
  std::vector<double> totals(k_, 0.0);
  for (std::size_t i = 0; i < k_; ++i) {
    for (std::size_t j = 0; j < k_; ++j) totals[i] += static_cast<double>(counts_[i * k_ + j]);
  }
  return totals;
}

std::vector<double> AgreementTable::column_totals() const {
  std::vector<double> totals(k_, 0.0);
  for (std::size_t i = 0; i < k_; ++i) {
    for (std::size_t j = 0; j < k_; ++j) totals[j] += static_cast<double>(counts_[i * k_ + j]);
  }
  return totals;
}

std::optional<double> AgreementTable::exact() const {
  if (n_ == 0) return std::nullopt;
  std::int64_t same = 0;
  for (std::size_t i = 0; i < k_; ++i) same += counts_[i * k_ + i];
  return static_cast<double>(same) / static_cast<double>(n_);
}

std::optional<double> AgreementTable::within_one() const {
  if (n_ == 0) return std::nullopt;
  std::int64_t near = 0;
  for (std::size_t i = 0; i < k_; ++i) {
    for (std::size_t j = 0; j < k_; ++j) {
      if (i <= j + 1 && j <= i + 1) near += counts_[i * k_ + j];  // |i - j| <= 1 without signed casts
    }
  }
  return static_cast<double>(near) / static_cast<double>(n_);
}

std::optional<double> AgreementTable::kappa(KappaWeights weights) const {
  if (n_ == 0) return std::nullopt;
  const std::vector<double> row = row_totals(), column = column_totals();
  const double n = static_cast<double>(n_);
  double weighted_observed = 0, weighted_expected = 0;
  for (std::size_t i = 0; i < k_; ++i) {
    for (std::size_t j = 0; j < k_; ++j) {
      double w = i == j ? 0.0 : 1.0;
      if (weights == KappaWeights::kQuadratic && k_ > 1) {
        const double d = (static_cast<double>(i) - static_cast<double>(j)) / static_cast<double>(k_ - 1);
        w = d * d;
      }
      weighted_observed += w * static_cast<double>(counts_[i * k_ + j]) / n;
      weighted_expected += w * (row[i] / n) * (column[j] / n);
    }
  }
  // Zero when both raters put every item in one category: no disagreement to expect or correct.
  if (weighted_expected == 0) return std::nullopt;
  return 1 - weighted_observed / weighted_expected;
}

namespace {

// Average ranks, 1-based, of each category: the items of category i take the ranks after those
// of the categories below it, and share their mean, below + (count + 1) / 2.
std::vector<double> category_ranks(const std::vector<double>& totals) {
  std::vector<double> ranks(totals.size());
  double below = 0;
  for (std::size_t i = 0; i < totals.size(); ++i) {
    ranks[i] = below + (totals[i] + 1) / 2;
    below += totals[i];
  }
  return ranks;
}

// Pairs of items tied on one side: sum over its categories of count (count - 1) / 2.
double tied_pairs(const std::vector<double>& totals) {
  double tied = 0;
  for (const double t : totals) tied += t * (t - 1) / 2;
  return tied;
}

}  // namespace

std::optional<double> AgreementTable::spearman() const {
  if (n_ < 2) return std::nullopt;
  const std::vector<double> row = row_totals(), column = column_totals();
  const std::vector<double> ra = category_ranks(row), rb = category_ranks(column);
  const double n = static_cast<double>(n_);
  const double mean = (n + 1) / 2;  // of any average ranks
  // Pearson's correlation of the ranks, each cell standing for `count` items with the same ranks.
  double sab = 0, saa = 0, sbb = 0;
  for (std::size_t i = 0; i < k_; ++i) {
    saa += row[i] * (ra[i] - mean) * (ra[i] - mean);
    sbb += column[i] * (rb[i] - mean) * (rb[i] - mean);
    for (std::size_t j = 0; j < k_; ++j) {
      sab += static_cast<double>(counts_[i * k_ + j]) * (ra[i] - mean) * (rb[j] - mean);
    }
  }
  if (saa == 0 || sbb == 0) return std::nullopt;
  return sab / std::sqrt(saa * sbb);
}

std::optional<double> AgreementTable::kendall_tau_b() const {
  if (n_ < 2) return std::nullopt;
  // after[i][j]: items with first category >= i and second >= j (suffix sums, (k+1) x (k+1) with a
  // zero border), so the cells strictly above-right of (i, j) sum to after[i+1][j+1] and those
  // strictly above-left to after[i+1][0] - after[i+1][j]: O(k^2) in all, never O(n^2).
  const std::size_t w = k_ + 1;
  std::vector<double> after(w * w, 0.0);
  for (std::size_t i = k_; i-- > 0;) {
    for (std::size_t j = k_; j-- > 0;) {
      after[i * w + j] = static_cast<double>(counts_[i * k_ + j]) + after[(i + 1) * w + j] + after[i * w + j + 1] -
                         after[(i + 1) * w + j + 1];
    }
  }
  double concordant = 0, discordant = 0;
  for (std::size_t i = 0; i < k_; ++i) {
    for (std::size_t j = 0; j < k_; ++j) {
      const double cell = static_cast<double>(counts_[i * k_ + j]);
      concordant += cell * after[(i + 1) * w + j + 1];
      discordant += cell * (after[(i + 1) * w] - after[(i + 1) * w + j]);
    }
  }
  const double n = static_cast<double>(n_);
  const double pairs = n * (n - 1) / 2;
  const double denominator = std::sqrt((pairs - tied_pairs(row_totals())) * (pairs - tied_pairs(column_totals())));
  if (denominator == 0) return std::nullopt;
  return (concordant - discordant) / denominator;
}

}  // namespace llmeval::stats
