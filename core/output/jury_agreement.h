// JuryAgreement: how well the jurors of a --jury run agree with each other, per criterion, for
// the summary's `jury_agreement` section (docs/formats.md §4): Krippendorff's alpha over all
// jurors (interval metric on 1-5 and 1-10, nominal on binary; an abstaining juror is a missing
// value), Cohen's kappa of each pair of jurors over the rows both answered, and each juror's
// score distribution. Jurors are told apart by provider name, in the order first seen.
//
// Constant memory in the rows: one alpha and one table per pair of jurors per criterion. A
// juror's score that is not a whole number (the mean of --repeat samples) is rounded to the
// nearest scale point. Pairwise criteria are left out (their jurors' verdicts are winners, not
// scores). Not thread-safe.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/output/result_record.h"
#include "core/stats/agreement_table.h"
#include "core/stats/krippendorff.h"

namespace llmeval::output {

class JuryAgreement {
 public:
  void add(const CriterionResult& criterion);

  bool empty() const { return criteria_.empty(); }
  // {"<criterion>": {"jurors", "scale", "units", "alpha", "alpha_metric", "kappa_weights",
  // "pairs": [{"a", "b", "n", "kappa"}], "scores", "distribution": {"<juror>": [count per
  // score]}}}
  nlohmann::json to_json() const;
  std::string to_table() const;

 private:
  struct Entry {
    std::string scale;
    int min = 0, max = 0;
    std::vector<std::string> jurors;  // in the order first seen
    stats::KrippendorffAlpha alpha;
    std::map<std::pair<std::size_t, std::size_t>, stats::AgreementTable> pairs;  // juror indexes, a < b
    std::vector<std::vector<std::int64_t>> distribution;                         // by juror, by score
  };
  std::size_t juror_index(Entry& entry, const std::string& provider) const;
  std::map<std::string, Entry> criteria_;
};

}  // namespace llmeval::output
