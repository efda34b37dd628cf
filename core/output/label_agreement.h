// LabelAgreement: how well the judge agrees with human labels (dataset `labels`), per criterion,
// for the summary's `agreement` section (docs/formats.md §4): n, exact, within_one, Cohen's kappa
// (quadratic-weighted on 1-5 and 1-10, unweighted on binary), Spearman, Kendall's tau-b and the
// confusion matrix of judge score x label. Percent agreement alone hides agreement by chance:
// kappa corrects for it (Thakur et al. 2024, "Judging the judges").
//
// Constant memory: one stats::AgreementTable per labelled criterion. A judge score that is not
// a whole number (the mean of --repeat samples, a jury's mean) is rounded to the nearest scale
// point, half away from zero. Not thread-safe.
#pragma once

#include <map>
#include <string>

#include <nlohmann/json.hpp>

#include "core/output/result_record.h"
#include "core/stats/agreement_table.h"

namespace llmeval::output {

class LabelAgreement {
 public:
  // Counts the criterion when it carries a label and its scale.
  void add(const CriterionResult& criterion);

  bool empty() const { return tables_.empty(); }
  // {"<criterion>": {"n", "scale", "exact", "within_one", "kappa", "kappa_weights", "spearman",
  // "kendall_tau_b", "confusion": {"scores", "counts"}}}; counts[i][j]: judge scores[i], label
  // scores[j].
  nlohmann::json to_json() const;
  // Lines for the summary table.
  std::string to_table() const;

 private:
  struct Entry {
    std::string scale;
    stats::AgreementTable table;  // first rater: the judge; second: the label
  };
  std::map<std::string, Entry> tables_;
};

}  // namespace llmeval::output
