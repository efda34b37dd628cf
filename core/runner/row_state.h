// RowState and JudgeCall: what the Evaluator keeps about one row being judged and about each of
// its LLM judge calls, plus the pure steps that turn them into results (a deterministic check's
// result, a verdict's result, the row's ResultRecord). Internal to core/runner.
//
// Plain data: the Evaluator owns every RowState until the row finishes, and a row owns its
// calls. Loop thread only, like the Evaluator.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/common/clock.h"
#include "core/common/error.h"
#include "core/dataset/eval_item.h"
#include "core/judge/judge_parser.h"
#include "core/output/result_record.h"
#include "core/provider/provider.h"
#include "core/resilience/cost_budget.h"
#include "core/resilience/probe_lease.h"
#include "core/runner/verdict_resolution.h"

namespace llmeval::runner {

struct RowState;

// One (row, LLM criterion) judge call, across its retries, repair and fallbacks.
struct JudgeCall {
  RowState* row = nullptr;
  std::size_t criterion_index = 0;
  provider::CompletionRequest request;
  std::size_t provider_index = 0;
  int attempts_on_provider = 0;
  int attempts_total = 0;
  bool repaired = false;
  bool prepaid = false;  // this attempt is answered by a provider batch (Provider::prepaid)
  std::int64_t reserved_tokens = 0;
  resilience::Nanodollars reserved_cost = 0;  // held in the cost budget while this attempt is out
  resilience::LeaseId probe_lease;            // held while this attempt is a half-open probe
  provider::TokenUsage tokens;
  Clock::TimePoint sent_at;
  std::optional<Clock::TimePoint> limiter_asked_at;  // first ask of the current admission
  int sample = 0;  // which judgment of the request this is (repeats); part of the cache key
  // --jury: the provider (chain index) this call belongs to; it never falls back to another.
  std::optional<std::size_t> juror;
  std::size_t slot = 0;  // its place in the criterion's CriterionSamples::by_index
  // The judge-cache key for the provider at cache_provider (the one the cache was last asked
  // for); empty when the call is not cached.
  std::string cache_key;
  std::optional<std::size_t> cache_provider;
};

// The calls of one LLM criterion (jurors x samples x orders: verdict_resolution.h), gathered
// until the last is done.
struct CriterionSamples {
  CallLayout layout;
  std::vector<CallOutcome> by_index;  // by CallLayout::index
  std::size_t pending = 0;
};

struct RowState {
  std::uint64_t id = 0;    // the evaluator's RowId
  bool cancelled = false;  // Evaluator::cancel(): calls not yet sent never are
  dataset::EvalItem item;
  Clock::TimePoint started;  // handed to evaluate(); the row deadline counts from here
  std::vector<std::optional<output::CriterionResult>> results;  // by criterion index
  std::vector<CriterionSamples> samples;                        // by criterion index (LLM ones)
  std::vector<std::unique_ptr<JudgeCall>> calls;
  std::size_t pending_calls = 0;
  std::optional<output::ResultError> first_error;
  std::function<void(output::ResultRecord)> done;
};

output::CriterionResult deterministic_result(const dataset::Criterion& criterion, const std::string& output_text);

// An LLM criterion's result from the judge's verdict; the caller adds the JudgeInfo.
output::CriterionResult verdict_result(const dataset::Criterion& criterion, const judge::Verdict& verdict);

// Adds another judgment's calls to a total: attempts and tokens summed, the slowest latency,
// fallback and simulated when any was, cached only when all were.
void add_judge_info(output::JudgeInfo& total, const output::JudgeInfo& next);

// An LLM criterion judged several times (--repeat), from the samples that succeeded (at least
// one): the mean score and what follows from it, their standard deviation, every sample, the
// summed JudgeInfo.
output::CriterionResult repeated_result(const dataset::Criterion& criterion, std::vector<output::Sample> samples,
                                        int failed);

// The row's record, moving its id, metadata and results out: criteria in the row's order,
// status error with the first error when any call failed.
output::ResultRecord take_record(RowState& row);

}  // namespace llmeval::runner
