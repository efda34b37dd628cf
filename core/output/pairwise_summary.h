// PairwiseSummary: the summary's `pairwise` section (docs/formats.md §4), per pairwise
// criterion: wins for answer a, wins for b, ties, b's win rate over the pairs that were not tied
// with its Wilson interval, and the position-consistency rate (the share of pairs whose two
// orders named the same answer: a judge that prefers whatever comes first scores 0). When the
// rows' model_a and model_b name more than two models, a Bradley–Terry ranking of them with
// bootstrap intervals (stats/bradley_terry.h; ties count half a win each).
//
// Memory: counters per criterion, and counts per pair of models. Not thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/output/result_record.h"

namespace llmeval::output {

class PairwiseSummary {
 public:
  // Counts a pairwise criterion (one with a winner) of a judged row.
  void add(const ResultRecord& record, const CriterionResult& criterion);

  bool empty() const { return criteria_.empty(); }
  // {"<criterion>": {"pairs", "wins_a", "wins_b", "ties", "b_win_rate", "b_win_rate_ci",
  // "position_consistency", "position_inconsistent", "ranking": [{"model", "strength", "ci",
  // "comparisons"}] or null}}
  nlohmann::json to_json(double confidence) const;
  std::string to_table(double confidence) const;

 private:
  struct Outcomes {
    std::int64_t first_wins = 0, second_wins = 0, ties = 0;  // first: the model named first (by index)
  };
  struct Entry {
    std::int64_t wins_a = 0, wins_b = 0, ties = 0;
    // Pairs judged in both orders by one judge (with a jury: by each juror that answered), and
    // those whose orders named different answers.
    std::int64_t with_orders = 0, inconsistent = 0;
    std::vector<std::string> models;                                    // named by rows, in the order first seen
    std::map<std::pair<std::size_t, std::size_t>, Outcomes> by_models;  // indexes, first < second
  };
  nlohmann::json ranking(const Entry& entry, double confidence) const;
  static std::size_t model_index(Entry& entry, const std::string& model);
  std::map<std::string, Entry> criteria_;
};

}  // namespace llmeval::output
