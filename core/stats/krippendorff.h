// KrippendorffAlpha: the reliability of any number of coders (judges, jurors, annotators) who
// each score some of the same units on whole-number values min..max, with missing values
// (Krippendorff, "Computing Krippendorff's Alpha-Reliability", 2011). Unlike Cohen's kappa it
// takes more than two coders and units that not every coder scored, and it corrects for the
// chance agreement of the pooled values.
//
// Streaming, in constant memory: only the k x k coincidence matrix is kept (k = max - min + 1).
// A unit with m_u values adds 1 / (m_u - 1) to o_ck for each ordered pair of values (c, k) from
// different coders; n_c = sum_k o_ck, n = sum_c n_c, and
//   alpha = 1 - D_o / D_e,  D_o = sum o_ck d2_ck / n,  D_e = sum n_c n_k d2_ck / (n (n - 1)),
// with d2_ck = (c != k) for nominal values and (c - k)^2 for interval values.
//
// Not thread-safe; copyable.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

namespace llmeval::stats {

class KrippendorffAlpha {
 public:
  enum class Metric {
    kNominal,   // categories: any two different values disagree equally (pass/fail, labels)
    kInterval,  // scores: disagreement grows with the squared distance (1-5, 1-10 scales)
  };

  // min > max: no values, nothing counted.
  KrippendorffAlpha(int min, int max, Metric metric);

  // One unit (item): the values of the coders, nullopt where a coder gave none. Values outside
  // min..max are ignored; a unit left with fewer than 2 values cannot be paired and is ignored.
  void add_unit(std::span<const std::optional<int>> values_by_coder);

  // nullopt with no pairable value, or when no disagreement is expected (every value the same).
  std::optional<double> alpha() const;
  std::int64_t units() const { return units_; }  // pairable units counted

 private:
  int min_;
  int max_;
  Metric metric_;
  std::size_t k_;                    // values; 0 when min > max
  std::vector<double> coincidence_;  // k x k, o_ck
  std::int64_t units_ = 0;
};

}  // namespace llmeval::stats
