#include "core/runner/row_state.h"

#include <algorithm>
#include <cmath>
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
  r.scale = dataset::to_string(criterion.scale);
  r.score = verdict.score;
  r.normalized = (verdict.score - range.min) / static_cast<double>(range.max - range.min);
  r.pass = verdict.score >= criterion.threshold;
  r.weight = criterion.weight;
  r.reason = verdict.reason;
  return r;
}

void add_judge_info(output::JudgeInfo& total, const output::JudgeInfo& next) {
  total.attempts += next.attempts;
  total.fallback = total.fallback || next.fallback;
  total.latency_ms = std::max(total.latency_ms, next.latency_ms);
  total.tokens.input += next.tokens.input;
  total.tokens.output += next.tokens.output;
  total.tokens.cached_input += next.tokens.cached_input;
  total.tokens.cache_write += next.tokens.cache_write;
  total.tokens.reasoning += next.tokens.reasoning;
  total.simulated = total.simulated || next.simulated;
  total.cached = total.cached && next.cached;
  if (total.batch.empty()) total.batch = next.batch;
  if (total.batch_fallback.empty()) total.batch_fallback = next.batch_fallback;
}

output::CriterionResult repeated_result(const dataset::Criterion& criterion, std::vector<output::Sample> samples,
                                        int failed) {
  double sum = 0;
  for (const auto& s : samples) sum += s.score;
  const double mean = sum / static_cast<double>(samples.size());
  double squares = 0;
  for (const auto& s : samples) squares += (s.score - mean) * (s.score - mean);
  output::CriterionResult r = verdict_result(criterion, judge::Verdict{mean, samples.front().reason});
  r.stddev = samples.size() > 1 ? std::sqrt(squares / static_cast<double>(samples.size() - 1)) : 0.0;
  r.samples_failed = failed;
  output::JudgeInfo judge = samples.front().judge;
  for (std::size_t i = 1; i < samples.size(); ++i) add_judge_info(judge, samples[i].judge);
  r.judge = std::move(judge);
  r.samples = std::move(samples);
  return r;
}

output::ResultRecord take_record(RowState& row) {
  output::ResultRecord record;
  record.id = std::move(row.item.id);
  record.line = row.item.line;
  record.metadata = std::move(row.item.metadata);
  record.group = std::move(row.item.group);
  record.model_a = std::move(row.item.model_a);
  record.model_b = std::move(row.item.model_b);
  for (std::size_t i = 0; i < row.results.size(); ++i) {
    if (!row.results[i]) continue;
    if (i < row.item.labels.size()) row.results[i]->label = row.item.labels[i];
    record.criteria.push_back(std::move(*row.results[i]));
  }
  if (row.first_error) {
    record.status = output::Status::kError;
    record.error = std::move(row.first_error);
  }
  return record;
}

}  // namespace llmeval::runner
