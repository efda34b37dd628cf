#include "core/runner/verdict_resolution.h"

#include <algorithm>
#include <cstdio>
#include <utility>

#include "core/judge/judge_parser.h"
#include "core/runner/row_state.h"

namespace llmeval::runner {
namespace {

// The answer a pairwise verdict names, "a", "b" or "tie", from the label it was shown under.
const char* underlying_winner(double shown_code, bool b_shown_as_a) {
  const auto shown = static_cast<judge::Shown>(static_cast<int>(shown_code));
  if (shown == judge::Shown::kTie) return "tie";
  const bool named_a = shown == judge::Shown::kA;
  return named_a != b_shown_as_a ? "a" : "b";
}

// Answer b's points for a winner: the pairwise criterion's score.
double b_points(std::string_view winner) { return winner == "b" ? 1.0 : winner == "tie" ? 0.5 : 0.0; }

std::string number_text(double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%.4g", value);
  return text;
}

// One juror's (or, with no jury, the criterion's) result from its calls, or its first error.
// spent, when not null, gathers what the juror's failed calls used.
CriterionOutcome resolve_juror(const dataset::Criterion& criterion, const CallLayout& layout,
                               std::vector<CallOutcome>& outcomes, std::size_t juror,
                               output::JudgeInfo* spent = nullptr) {
  std::optional<output::ResultError> first_error;
  std::vector<output::Sample> judged;
  for (int sample = 0; sample < layout.samples; ++sample) {
    for (int order = 0; order < layout.orders; ++order) {
      CallOutcome& outcome = outcomes[layout.index(juror, sample, order)];
      if (outcome.verdict) judged.push_back(std::move(*outcome.verdict));
      if (outcome.error && !first_error) first_error = std::move(outcome.error);
      if (spent != nullptr && outcome.error) add_judge_info(*spent, outcome.spent);
    }
  }
  if (criterion.pairwise) {
    // Both orders or nothing: one order alone cannot tell the answer from the position.
    if (judged.size() == 2) return pairwise_result(criterion, std::move(judged[0]), std::move(judged[1]));
  } else if (judged.size() == 1 && layout.samples == 1) {
    output::CriterionResult r = verdict_result(criterion, judge::Verdict{judged[0].score, judged[0].reason});
    r.judge = std::move(judged[0].judge);
    return r;
  } else if (!judged.empty()) {
    const int failed = layout.samples - static_cast<int>(judged.size());
    return repeated_result(criterion, std::move(judged), failed);
  }
  if (!first_error)
    first_error = output::ResultError{"judge_error", "criterion \"" + criterion.name + "\": no verdict"};
  return *std::move(first_error);
}

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  const std::size_t middle = values.size() / 2;
  return values.size() % 2 == 1 ? values[middle] : (values[middle - 1] + values[middle]) / 2;
}

}  // namespace

std::optional<JuryMethod> parse_jury_method(std::string_view text) {
  if (text == "mean") return JuryMethod::kMean;
  if (text == "median") return JuryMethod::kMedian;
  if (text == "majority") return JuryMethod::kMajority;
  return std::nullopt;
}

const char* to_string(JuryMethod method) {
  switch (method) {
    case JuryMethod::kNone: return "none";
    case JuryMethod::kMean: return "mean";
    case JuryMethod::kMedian: return "median";
    case JuryMethod::kMajority: return "majority";
  }
  return "none";
}

int effective_quorum(const JuryOptions& options, std::size_t jurors) {
  const int count = static_cast<int>(jurors);
  return options.quorum > 0 ? std::min(options.quorum, count) : count / 2 + 1;
}

output::CriterionResult pairwise_result(const dataset::Criterion& criterion, output::Sample a_first,
                                        output::Sample b_first) {
  const std::string first = underlying_winner(a_first.score, false);
  const std::string second = underlying_winner(b_first.score, true);
  const bool consistent = first == second;
  const std::string winner = consistent ? first : "tie";
  std::string reason = consistent ? a_first.reason
                                  : "the two orders disagree: shown first, output_a got \"" + first +
                                        "\"; shown first, output_b got \"" + second + "\"";
  output::CriterionResult r = verdict_result(criterion, judge::Verdict{b_points(winner), std::move(reason)});
  r.winner = winner;
  r.position_inconsistent = !consistent;
  output::JudgeInfo judge = a_first.judge;
  add_judge_info(judge, b_first.judge);
  r.judge = std::move(judge);
  const auto shown = [](const output::Sample& s) {
    return judge::to_string(static_cast<judge::Shown>(static_cast<int>(s.score)));
  };
  r.orders.push_back({"a", shown(a_first), std::move(a_first.reason), std::move(a_first.judge)});
  r.orders.push_back({"b", shown(b_first), std::move(b_first.reason), std::move(b_first.judge)});
  return r;
}

CriterionOutcome resolve_criterion(const dataset::Criterion& criterion, const CallLayout& layout,
                                   std::vector<CallOutcome> outcomes, const JuryOptions& jury,
                                   std::span<const Juror> jurors) {
  if (jury.method == JuryMethod::kNone) return resolve_juror(criterion, layout, outcomes, 0);

  std::vector<output::JurorVerdict> verdicts;
  std::vector<double> scores;
  std::string abstentions;
  for (std::size_t j = 0; j < layout.jurors; ++j) {
    output::JurorVerdict verdict;
    if (j < jurors.size()) {
      verdict.provider = jurors[j].provider;
      verdict.model = jurors[j].model;
    }
    output::JudgeInfo spent;
    spent.provider = verdict.provider;
    spent.model = verdict.model;
    CriterionOutcome outcome = resolve_juror(criterion, layout, outcomes, j, &spent);
    if (auto* result = std::get_if<output::CriterionResult>(&outcome)) {
      verdict.score = result->score;
      verdict.reason = std::move(result->reason);
      verdict.winner = std::move(result->winner);
      verdict.position_inconsistent = result->position_inconsistent;
      if (result->judge) {
        if (!result->judge->model.empty()) verdict.model = result->judge->model;
        verdict.judge = std::move(*result->judge);
      }
      scores.push_back(result->score);
    } else {
      auto& error = std::get<output::ResultError>(outcome);
      verdict.status = error.kind;
      verdict.reason = error.message;
      verdict.judge = std::move(spent);
      abstentions += (abstentions.empty() ? "" : "; ") + verdict.provider + " abstained (" + error.kind + ")";
    }
    verdicts.push_back(std::move(verdict));
  }

  const int quorum = effective_quorum(jury, layout.jurors);
  const int answered = static_cast<int>(scores.size());
  if (answered < quorum) {
    return output::ResultError{"no_quorum", "criterion \"" + criterion.name + "\": " + std::to_string(answered) +
                                                " of " + std::to_string(layout.jurors) +
                                                " jurors answered, fewer than the quorum of " + std::to_string(quorum) +
                                                (abstentions.empty() ? "" : ": " + abstentions)};
  }

  double mean = 0;
  for (double score : scores) mean += score;
  mean /= static_cast<double>(scores.size());
  const double score = jury.method == JuryMethod::kMedian ? median(scores) : mean;
  std::string reason = std::string("jury ") + to_string(jury.method) + " of " + std::to_string(answered) + " of " +
                       std::to_string(layout.jurors) + " jurors: " + number_text(score);
  output::CriterionResult r = verdict_result(criterion, judge::Verdict{score, std::string()});
  if (jury.method == JuryMethod::kMajority) {
    // Each juror's own verdict is its score against the threshold; more passes than fails
    // passes. A tie fails, and says so: it is never broken by the jurors' order.
    const auto passes = std::count_if(scores.begin(), scores.end(), [&](double s) { return s >= criterion.threshold; });
    const auto fails = static_cast<std::ptrdiff_t>(scores.size()) - passes;
    r.pass = passes > fails;
    r.tie = passes == fails;
    reason = "jury majority of " + std::to_string(answered) + " of " + std::to_string(layout.jurors) +
             " jurors: " + std::to_string(passes) + " pass, " + std::to_string(fails) + " fail" +
             (r.tie ? " (a tie fails)" : "") + "; mean score " + number_text(mean);
  }
  if (criterion.pairwise) {
    r.winner = score > 0.5 ? "b" : score < 0.5 ? "a" : "tie";
    r.position_inconsistent = std::any_of(verdicts.begin(), verdicts.end(),
                                          [](const output::JurorVerdict& v) { return v.position_inconsistent; });
  }
  r.reason = std::move(reason);
  if (!abstentions.empty()) r.reason += "; " + abstentions;
  r.jury = std::move(verdicts);
  return r;
}

}  // namespace llmeval::runner
