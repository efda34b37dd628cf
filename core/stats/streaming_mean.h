// StreamingMean: the mean of a stream of scores and its confidence interval, in memory that grows
// with the number of clusters, never with the number of rows (the summary of a million-row run).
//
// Rows without a cluster are independent: the t-interval, mean -/+ t_{(1+c)/2, n-1} s / sqrt(n).
// When some rows share a cluster (a dataset's `group`), Miller's clustered standard error
// (arXiv:2411.00640, Eq. 4, as in mean_interval.h's clustered_mean_interval) with the standard
// normal, from per-cluster sums: for cluster c with sum S_c, count n_c and sum of squares Q'_c,
//   sum_{i != j in c} (s_i - m)(s_j - m) = (S_c - n_c m)^2 - (Q'_c - 2 m S_c + n_c m^2),
// so the result equals clustered_mean_interval over the same values (a test checks it).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>

#include "core/stats/mean_interval.h"

namespace llmeval::stats {

class StreamingMean {
 public:
  // `cluster` empty: the value is its own cluster.
  void add(double value, const std::string& cluster = {});

  std::uint64_t count() const { return n_; }
  std::optional<double> mean() const;
  // nullopt with fewer than 2 values (or 2 clusters, when clustered), or a confidence outside (0, 1).
  std::optional<MeanEstimate> interval(double confidence) const;
  bool clustered() const;  // some cluster holds more than one value

 private:
  struct Cluster {
    double sum = 0;
    double sum_squares = 0;
    std::uint64_t count = 0;
  };
  std::uint64_t n_ = 0;
  double mean_ = 0;
  double m2_ = 0;  // Welford's running sum of squared differences
  std::uint64_t singletons_ = 0;
  std::unordered_map<std::string, Cluster> clusters_;
};

}  // namespace llmeval::stats
