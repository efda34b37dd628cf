// AgreementTable: two raters (a judge and human labels, two jurors) scoring the same items on
// whole-number categories min..max (1-5, 1-10, 0-1 for pass/fail), kept as the k x k table of
// counts, k = max - min + 1. Memory is constant in the number of items, so the summary of a
// million-row run can keep one table per criterion, and tables of shards add up (merge).
//
// Every statistic is a function of the table and equals its span counterpart in agreement.h on
// the same items (a test cross-checks them): cohen_kappa builds a table and asks it. The rank
// statistics need no per-item ranks: a category's average rank follows from the counts of the
// categories below it, and Kendall's pairs are sums of products of cell counts.
//
// Not thread-safe; copyable. Tables with min > max have no categories and count nothing.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "core/stats/agreement.h"

namespace llmeval::stats {

class AgreementTable {
 public:
  AgreementTable(int min, int max);

  // Counts the item with scores a (first rater) and b (second rater); an item with a score outside
  // min..max is not counted.
  void add(int a, int b);
  // Adds `other`'s counts (another shard of the same run). False, and nothing added, when its
  // categories differ.
  bool merge(const AgreementTable& other);

  int min() const { return min_; }
  int max() const { return max_; }
  std::int64_t n() const { return n_; }
  std::int64_t count(int a, int b) const;  // 0 outside min..max

  // Share of items with a == b, and with |a - b| <= 1. nullopt with no item.
  std::optional<double> exact() const;
  std::optional<double> within_one() const;

  // Cohen's kappa, as cohen_kappa in agreement.h: 1 - sum w O / sum w E with w 0 on the diagonal
  // and 1 elsewhere (kNone) or ((i - j) / (k - 1))^2 (kQuadratic). nullopt with no item or when
  // chance agreement is already perfect (both raters always in one category).
  std::optional<double> kappa(KappaWeights weights) const;

  // Spearman's rho with average ranks, as spearman_rho. nullopt with fewer than 2 items or a
  // constant side.
  std::optional<double> spearman() const;

  // Kendall's tau-b, as kendall_tau_b, in O(k^2) time whatever the number of items. nullopt with
  // fewer than 2 items or a constant side.
  std::optional<double> kendall_tau_b() const;

 private:
  std::size_t index(int a, int b) const;
  // The first rater's category totals (rows) and the second's (columns), as doubles for the sums.
  std::vector<double> row_totals() const;
  std::vector<double> column_totals() const;

  int min_;
  int max_;
  std::size_t k_;                     // categories; 0 when min > max
  std::vector<std::int64_t> counts_;  // k x k, row = first rater's category
  std::int64_t n_ = 0;
};

}  // namespace llmeval::stats
