#include "core/runner/row_state.h"

#include <utility>

#include "core/judge/checks.h"

namespace llmeval::runner {

output::CriterionResult deterministic_result(const dataset::Criterion& criterion, const std::string& output_text) {
  judge::CheckOutcome outcome = judge::run_check(criterion, output_text);
  output::CriterionResult r;
  r.name = criterion.name;
  r.llm = false;
  r.check = dataset::to_string(criterion.check);
  r.score = outcome.pass ? 1 : 0;
  r.normalized = r.score;
  r.pass = outcome.pass;
  r.weight = criterion.weight;
  r.reason = std::move(outcome.reason);
  return r;
}

output::CriterionResult verdict_result(const dataset::Criterion& criterion, const judge::Verdict& verdict) {
  dataset::ScaleRange range = dataset::range_of(criterion.scale);
  output::CriterionResult r;
  r.name = criterion.name;
  r.score = verdict.score;
  r.normalized = (verdict.score - range.min) / static_cast<double>(range.max - range.min);
  r.pass = verdict.score >= criterion.threshold;
  r.weight = criterion.weight;
  r.reason = verdict.reason;
  return r;
}

output::ResultRecord take_record(RowState& row) {
  output::ResultRecord record;
  record.id = std::move(row.item.id);
  record.line = row.item.line;
  record.metadata = std::move(row.item.metadata);
  for (auto& result : row.results) {
    if (result) record.criteria.push_back(std::move(*result));
  }
  if (row.first_error) {
    record.status = output::Status::kError;
    record.error = std::move(row.first_error);
  }
  return record;
}

}  // namespace llmeval::runner
