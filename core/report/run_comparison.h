// RunComparison: a results file compared with a baseline run of the same dataset (report
// --compare). Rows are matched by id (a row without an id has its line number as id, so runs
// of one dataset match line by line). It keeps each baseline row's verdict, ~100 bytes a row,
// and the baseline's own Summary for per-criterion deltas.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/common/error.h"

#include "core/output/result_record.h"
#include "core/output/summary.h"

namespace llmeval::report {

// How a row's verdict moved from the baseline to this run.
enum class Change {
  kSame,       // same status, verdict and criterion verdicts
  kRegressed,  // passed, now fails
  kFixed,      // failed, now passes
  kNewError,   // judged before, now error or invalid
  kRecovered,  // error or invalid before, now judged
  kChanged,    // same row verdict, but some criterion's verdict changed (or error kind/status)
  kNew,        // not in the baseline
};
const char* to_string(Change change);

struct BaselineRow {
  std::int64_t line = 0;
  std::string id;  // as people read it
  output::Status status = output::Status::kOk;
  bool pass = false;
  double score = 0;
  struct Criterion {
    std::string name;
    double normalized = 0;
    bool pass = false;
  };
  std::vector<Criterion> criteria;
  bool matched = false;  // a row of this run has its id
};

struct ChangeCounts {
  std::int64_t regressed = 0, fixed = 0, new_error = 0, recovered = 0, changed = 0, added = 0;
  std::int64_t same = 0;
  std::int64_t baseline_only = 0;  // rows of the baseline this run does not have
};

class RunComparison {
 public:
  // Reads the whole baseline file; its errors are for_each_result_row's.
  static Result<std::unique_ptr<RunComparison>> load(const std::string& baseline_path);

  const std::string& baseline_path() const { return path_; }
  const output::Summary& baseline_summary() const { return summary_; }
  double baseline_row_score_sum() const { return row_score_sum_; }

  // The baseline row with this row's id, or null.
  const BaselineRow* find(const output::ResultRecord& row) const;
  static Change classify(const output::ResultRecord& row, const BaselineRow* baseline);

  // First pass over this run's rows: counts changes and marks the baseline rows matched.
  void count(const output::ResultRecord& row);
  // After every row was counted: the totals, baseline_only included.
  ChangeCounts counts() const;
  // Baseline rows no row of this run matched, in baseline file order.
  std::vector<const BaselineRow*> unmatched() const;

 private:
  std::string path_;
  output::Summary summary_;
  double row_score_sum_ = 0;
  std::vector<BaselineRow> rows_;
  std::unordered_map<std::string, std::size_t> index_;  // id JSON text -> rows_ index
  ChangeCounts counts_;

  explicit RunComparison(std::string baseline_path) : path_(std::move(baseline_path)) {}
  void add_baseline_row(const output::ResultRecord& record);
};

}  // namespace llmeval::report
