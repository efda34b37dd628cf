// From a criterion's judge calls to its result (pure): the calls of one LLM criterion are laid
// out as jurors x samples x orders — one juror unless --jury, --repeat samples, two orders for a
// pairwise criterion — and resolve_criterion turns what they returned into the criterion's
// result, or the error that makes its row an `error`.
//
// Per juror: its samples' mean (one sample: the verdict itself), or, for a pairwise criterion,
// the two orders resolved into one winner. Without a jury that is the criterion's result, and
// a juror with no verdict fails the criterion with its first call's error. With a jury, every
// juror's verdict is kept (JurorVerdict); one with no verdict abstains, and fewer answers than
// the quorum is a `no_quorum` error. The jury's score is the mean or median of the jurors'
// scores, or for `majority` their pass/fail vote (docs/formats.md "Juries").
#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/dataset/criterion.h"
#include "core/output/result_record.h"

namespace llmeval::runner {

enum class JuryMethod { kNone, kMean, kMedian, kMajority };
std::optional<JuryMethod> parse_jury_method(std::string_view text);  // "mean", "median", "majority"
const char* to_string(JuryMethod method);                            // "none" for kNone

struct JuryOptions {
  JuryMethod method = JuryMethod::kNone;
  // Jurors that must answer for the criterion to count; 0: a majority of them (n / 2 + 1).
  int quorum = 0;
};

// The quorum in force for `jurors` jurors: options.quorum (at most jurors), else a majority.
int effective_quorum(const JuryOptions& options, std::size_t jurors);

// Where each call of a criterion goes: index = (juror * samples + sample) * orders + order.
struct CallLayout {
  std::size_t jurors = 1;
  int samples = 1;
  int orders = 1;  // 2 for a pairwise criterion: order 0 shows output_a as A, order 1 output_b

  std::size_t size() const { return jurors * static_cast<std::size_t>(samples * orders); }
  std::size_t index(std::size_t juror, int sample, int order) const {
    return (juror * static_cast<std::size_t>(samples) + static_cast<std::size_t>(sample)) *
               static_cast<std::size_t>(orders) +
           static_cast<std::size_t>(order);
  }
};

// What one call ended with: its verdict (a pairwise one's score is the judge::Shown code), or
// the error that ended it after its retries, repair and fallbacks.
struct CallOutcome {
  std::optional<output::Sample> verdict;
  std::optional<output::ResultError> error;  // its message names the criterion
  // A failed call's attempts and the tokens its replies used (an unparseable reply is paid
  // for): an abstaining juror's entry keeps them, so its cost is counted.
  output::JudgeInfo spent;
};

struct Juror {
  std::string provider;
  std::string model;
};

using CriterionOutcome = std::variant<output::CriterionResult, output::ResultError>;

// jurors: by juror index (with no jury, the one entry may be anything: it is not used).
CriterionOutcome resolve_criterion(const dataset::Criterion& criterion, const CallLayout& layout,
                                   std::vector<CallOutcome> outcomes, const JuryOptions& jury,
                                   std::span<const Juror> jurors);

// A pairwise criterion's result from its two orders' verdicts (a-first, b-first): the answer
// both named wins; when they name different answers, a tie with position_inconsistent. Its
// score is answer b's points: 1 win, 0.5 tie, 0 loss.
output::CriterionResult pairwise_result(const dataset::Criterion& criterion, output::Sample a_first,
                                        output::Sample b_first);

}  // namespace llmeval::runner
