#include "core/stats/krippendorff.h"

namespace llmeval::stats {

KrippendorffAlpha::KrippendorffAlpha(int min, int max, Metric metric) : min_(min), max_(max), metric_(metric) {
  const std::int64_t k = std::int64_t{max} - std::int64_t{min} + 1;  // 64 bits: INT_MIN..INT_MAX
  k_ = k > 0 ? static_cast<std::size_t>(k) : 0;
  coincidence_.assign(k_ * k_, 0.0);
}

void KrippendorffAlpha::add_unit(std::span<const std::optional<int>> values_by_coder) {
  auto usable = [&](const std::optional<int>& v) { return v && *v >= min_ && *v <= max_; };
  std::int64_t m = 0;
  for (const auto& v : values_by_coder) m += usable(v) ? 1 : 0;
  if (m < 2) return;
  ++units_;
  // Each value is paired with the m - 1 values of the other coders in the unit, and the unit's
  // pairs weigh 1 / (m - 1) each, so every pairable value adds exactly 1 to n: O(m^2) per unit
  // without allocating, which is fine for the handful of coders a unit has.
  const double weight = 1.0 / static_cast<double>(m - 1);
  for (std::size_t i = 0; i < values_by_coder.size(); ++i) {
    if (!usable(values_by_coder[i])) continue;
    const auto c = static_cast<std::size_t>(std::int64_t{*values_by_coder[i]} - min_);
    for (std::size_t j = 0; j < values_by_coder.size(); ++j) {
      if (j == i || !usable(values_by_coder[j])) continue;
      coincidence_[c * k_ + static_cast<std::size_t>(std::int64_t{*values_by_coder[j]} - min_)] += weight;
    }
  }
}

std::optional<double> KrippendorffAlpha::alpha() const {
  std::vector<double> totals(k_, 0.0);  // n_c
  double n = 0;
  for (std::size_t c = 0; c < k_; ++c) {
    for (std::size_t k = 0; k < k_; ++k) totals[c] += coincidence_[c * k_ + k];
    n += totals[c];
  }
  if (units_ == 0 || n < 2) return std::nullopt;
  double observed = 0, expected = 0;  // sum o_ck d2 and sum n_c n_k d2
  for (std::size_t c = 0; c < k_; ++c) {
    for (std::size_t k = 0; k < k_; ++k) {
      const double distance = static_cast<double>(c) - static_cast<double>(k);
      const double d2 = metric_ == Metric::kNominal ? (c != k ? 1.0 : 0.0) : distance * distance;
      observed += coincidence_[c * k_ + k] * d2;
      expected += totals[c] * totals[k] * d2;
    }
  }
  // D_e = 0: every pairable value is the same, so there is no chance disagreement to measure
  // the observed one against (alpha would be 0 / 0).
  if (expected == 0) return std::nullopt;
  // 1 - D_o / D_e with D_o = observed / n and D_e = expected / (n (n - 1)).
  return 1 - (n - 1) * observed / expected;
}

}  // namespace llmeval::stats
