#include "core/report/run_comparison.h"

#include "core/output/result_reader.h"

namespace llmeval::report {
namespace {

bool judged(output::Status status) { return status == output::Status::kOk; }

// Any criterion present in both runs whose verdict differs.
bool criterion_verdict_changed(const output::ResultRecord& row, const BaselineRow& baseline) {
  for (const output::CriterionResult& now : row.criteria) {
    for (const BaselineRow::Criterion& before : baseline.criteria) {
      if (before.name == now.name && before.pass != now.pass) return true;
    }
  }
  return false;
}

}  // namespace

const char* to_string(Change change) {
  switch (change) {
    case Change::kSame: return "same";
    case Change::kRegressed: return "regressed";
    case Change::kFixed: return "fixed";
    case Change::kNewError: return "new_error";
    case Change::kRecovered: return "recovered";
    case Change::kChanged: return "changed";
    case Change::kNew: return "new";
  }
  return "same";
}

Result<std::unique_ptr<RunComparison>> RunComparison::load(const std::string& baseline_path) {
  std::unique_ptr<RunComparison> comparison(new RunComparison(baseline_path));
  auto read = output::for_each_result_row(baseline_path, [self = comparison.get()](const output::ResultRecord& record) {
    self->add_baseline_row(record);
  });
  if (!read.ok()) return read.error();
  return comparison;
}

void RunComparison::add_baseline_row(const output::ResultRecord& record) {
  summary_.add(record);
  BaselineRow row;
  row.line = record.line;
  row.id = output::id_text(record.id);
  row.status = record.status;
  row.pass = record.pass();
  row.score = judged(record.status) ? record.score() : 0;
  if (judged(record.status)) row_score_sum_ += row.score;
  for (const output::CriterionResult& criterion : record.criteria) {
    row.criteria.push_back({criterion.name, criterion.normalized, criterion.pass});
  }
  // A repeated id keeps its first row, as the dataset reader does.
  if (index_.try_emplace(record.id.dump(), rows_.size()).second) rows_.push_back(std::move(row));
}

const BaselineRow* RunComparison::find(const output::ResultRecord& row) const {
  auto it = index_.find(row.id.dump());
  return it == index_.end() ? nullptr : &rows_[it->second];
}

Change RunComparison::classify(const output::ResultRecord& row, const BaselineRow* baseline) {
  if (baseline == nullptr) return Change::kNew;
  const bool now_judged = judged(row.status), before_judged = judged(baseline->status);
  if (before_judged && !now_judged) return Change::kNewError;
  if (!before_judged && now_judged) return Change::kRecovered;
  if (!now_judged) return baseline->status == row.status ? Change::kSame : Change::kChanged;
  if (baseline->pass && !row.pass()) return Change::kRegressed;
  if (!baseline->pass && row.pass()) return Change::kFixed;
  return criterion_verdict_changed(row, *baseline) ? Change::kChanged : Change::kSame;
}

void RunComparison::count(const output::ResultRecord& row) {
  auto it = index_.find(row.id.dump());
  BaselineRow* baseline = it == index_.end() ? nullptr : &rows_[it->second];
  if (baseline != nullptr) baseline->matched = true;
  switch (classify(row, baseline)) {
    case Change::kSame: ++counts_.same; break;
    case Change::kRegressed: ++counts_.regressed; break;
    case Change::kFixed: ++counts_.fixed; break;
    case Change::kNewError: ++counts_.new_error; break;
    case Change::kRecovered: ++counts_.recovered; break;
    case Change::kChanged: ++counts_.changed; break;
    case Change::kNew: ++counts_.added; break;
  }
}

ChangeCounts RunComparison::counts() const {
  ChangeCounts counts = counts_;
  counts.baseline_only = static_cast<std::int64_t>(unmatched().size());
  return counts;
}

std::vector<const BaselineRow*> RunComparison::unmatched() const {
  std::vector<const BaselineRow*> rows;
  for (const BaselineRow& row : rows_) {
    if (!row.matched) rows.push_back(&row);
  }
  return rows;
}

}  // namespace llmeval::report
