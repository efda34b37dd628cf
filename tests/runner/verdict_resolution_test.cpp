// resolve_criterion (pure): a criterion's calls laid out as jurors x samples x orders, turned
// into its result or its row's error. Pairwise orders resolve to the answer both named, else a
// position-inconsistent tie; a jury aggregates the jurors that answered, abstains the others,
// needs its quorum, and a majority tie fails without looking at the jurors' order.
#include "core/runner/verdict_resolution.h"

#include <catch2/catch.hpp>

#include <string>
#include <variant>
#include <vector>

#include "core/judge/judge_parser.h"

namespace {

using namespace llmeval;
using runner::CallLayout;
using runner::CallOutcome;
using runner::JuryMethod;
using runner::JuryOptions;

dataset::Criterion scored(dataset::Scale scale = dataset::Scale::k1to5) {
  dataset::Criterion c;
  c.name = "quality";
  c.rubric = "Good.";
  c.scale = scale;
  c.threshold = dataset::default_threshold(scale);
  return c;
}

dataset::Criterion pairwise() {
  dataset::Criterion c;
  c.name = "better";
  c.rubric = "Better.";
  c.pairwise = true;
  c.scale = dataset::Scale::kBinary;
  c.threshold = 0.5;
  return c;
}

// A JudgeInfo naming who judged, with this many calls.
output::JudgeInfo judged_by(const std::string& provider, const std::string& model, int attempts = 0) {
  output::JudgeInfo info;
  info.provider = provider;
  info.model = model;
  info.attempts = attempts;
  return info;
}

CallOutcome verdict(double score, const std::string& provider = "p") {
  CallOutcome outcome;
  outcome.verdict = output::Sample{score, false, "reason " + provider, judged_by(provider, "m", 1)};
  return outcome;
}

CallOutcome shown(judge::Shown winner) { return verdict(static_cast<double>(winner)); }

CallOutcome failed(const std::string& kind) {
  CallOutcome outcome;
  outcome.error = output::ResultError{kind, "criterion \"quality\": " + kind};
  return outcome;
}

const std::vector<runner::Juror> kJurors = {{"j1", "m1"}, {"j2", "m2"}, {"j3", "m3"}};

output::CriterionResult result_of(const runner::CriterionOutcome& outcome) {
  if (const auto* error = std::get_if<output::ResultError>(&outcome)) FAIL("error: " << error->message);
  return std::get<output::CriterionResult>(outcome);
}

}  // namespace

TEST_CASE("CallLayout numbers calls juror-major, then sample, then order", "[runner][jury]") {
  CallLayout layout{3, 2, 2};
  CHECK(layout.size() == 12);
  CHECK(layout.index(0, 0, 0) == 0);
  CHECK(layout.index(0, 0, 1) == 1);
  CHECK(layout.index(0, 1, 0) == 2);
  CHECK(layout.index(2, 1, 1) == 11);
  CHECK(runner::effective_quorum(JuryOptions{JuryMethod::kMean, 0}, 3) == 2);
  CHECK(runner::effective_quorum(JuryOptions{JuryMethod::kMean, 0}, 2) == 2);
  CHECK(runner::effective_quorum(JuryOptions{JuryMethod::kMean, 0}, 4) == 3);
  CHECK(runner::effective_quorum(JuryOptions{JuryMethod::kMean, 9}, 4) == 4);
}

TEST_CASE("pairwise orders: the same answer under both labels wins, disagreement is an inconsistent tie",
          "[runner][pairwise]") {
  using judge::Shown;
  struct Case {
    Shown a_first, b_first;
    const char* winner;
    bool inconsistent;
    double score;
  };
  // Order 0 shows output_a as A; order 1 shows output_b as A.
  const Case cases[] = {{Shown::kA, Shown::kB, "a", false, 0.0},       {Shown::kB, Shown::kA, "b", false, 1.0},
                        {Shown::kTie, Shown::kTie, "tie", false, 0.5}, {Shown::kA, Shown::kA, "tie", true, 0.5},
                        {Shown::kB, Shown::kB, "tie", true, 0.5},      {Shown::kA, Shown::kTie, "tie", true, 0.5}};
  for (const Case& c : cases) {
    output::CriterionResult r = result_of(runner::resolve_criterion(
        pairwise(), CallLayout{1, 1, 2}, {shown(c.a_first), shown(c.b_first)}, JuryOptions{}, kJurors));
    INFO(judge::to_string(c.a_first) << " then " << judge::to_string(c.b_first));
    CHECK(r.winner == c.winner);
    CHECK(r.position_inconsistent == c.inconsistent);
    CHECK(r.score == c.score);
    CHECK(r.pass == (c.score >= 0.5));
    REQUIRE(r.orders.size() == 2);
    CHECK(r.orders[0].shown_as_a == "a");
    CHECK(r.orders[1].shown_as_a == "b");
    CHECK(r.judge->attempts == 2);
  }
  // One order failing fails the criterion: one order alone cannot tell answer from position.
  auto outcome = runner::resolve_criterion(pairwise(), CallLayout{1, 1, 2}, {shown(Shown::kA), failed("timeout")},
                                           JuryOptions{}, kJurors);
  REQUIRE(std::holds_alternative<output::ResultError>(outcome));
  CHECK(std::get<output::ResultError>(outcome).kind == "timeout");
}

TEST_CASE("jury: mean and median of the jurors that answered; abstentions keep their reason", "[runner][jury]") {
  CallLayout layout{3, 1, 1};
  output::CriterionResult mean = result_of(
      runner::resolve_criterion(scored(), layout, {verdict(5, "j1"), verdict(2, "j2"), failed("judge_unparseable")},
                                JuryOptions{JuryMethod::kMean, 0}, kJurors));
  CHECK(mean.score == 3.5);
  CHECK_FALSE(mean.pass);  // 3.5 < 4
  REQUIRE(mean.jury.size() == 3);
  CHECK(mean.jury[0].provider == "j1");
  CHECK(mean.jury[0].score == 5.0);
  CHECK(mean.jury[2].provider == "j3");
  CHECK(mean.jury[2].model == "m3");
  CHECK_FALSE(mean.jury[2].score);
  CHECK(mean.jury[2].status == "judge_unparseable");
  CHECK_FALSE(mean.judge);
  CHECK(mean.reason.find("j3 abstained (judge_unparseable)") != std::string::npos);

  output::CriterionResult median = result_of(runner::resolve_criterion(
      scored(), layout, {verdict(5), verdict(1), verdict(4)}, JuryOptions{JuryMethod::kMedian, 0}, kJurors));
  CHECK(median.score == 4);
  CHECK(median.pass);
  // An even number of answers: the mean of the middle two.
  output::CriterionResult even = result_of(
      runner::resolve_criterion(scored(), CallLayout{4, 1, 1}, {verdict(5), verdict(1), verdict(4), verdict(2)},
                                JuryOptions{JuryMethod::kMedian, 0}, std::vector<runner::Juror>(4)));
  CHECK(even.score == 3);
}

TEST_CASE("jury: a majority tie fails whatever the order, and too few answers is no_quorum", "[runner][jury]") {
  for (auto outcomes :
       {std::vector<CallOutcome>{verdict(5), verdict(1)}, std::vector<CallOutcome>{verdict(1), verdict(5)}}) {
    output::CriterionResult r = result_of(runner::resolve_criterion(scored(), CallLayout{2, 1, 1}, outcomes,
                                                                    JuryOptions{JuryMethod::kMajority, 0}, kJurors));
    CHECK(r.tie);
    CHECK_FALSE(r.pass);
    CHECK(r.score == 3);
  }
  output::CriterionResult two_to_one = result_of(
      runner::resolve_criterion(scored(), CallLayout{3, 1, 1}, {verdict(1), verdict(4), verdict(5)},
                                JuryOptions{JuryMethod::kMajority, 0}, kJurors));
  CHECK(two_to_one.pass);
  CHECK_FALSE(two_to_one.tie);

  auto outcome = runner::resolve_criterion(scored(), CallLayout{3, 1, 1},
                                           {verdict(4), failed("timeout"), failed("judge_unparseable")},
                                           JuryOptions{JuryMethod::kMean, 0}, kJurors);
  REQUIRE(std::holds_alternative<output::ResultError>(outcome));
  const auto& error = std::get<output::ResultError>(outcome);
  CHECK(error.kind == "no_quorum");
  CHECK(error.message ==
        "criterion \"quality\": 1 of 3 jurors answered, fewer than the quorum of 2: j2 abstained (timeout); j3 "
        "abstained (judge_unparseable)");
  // An explicit quorum of 1 lets it through.
  CHECK(std::holds_alternative<output::CriterionResult>(
      runner::resolve_criterion(scored(), CallLayout{3, 1, 1}, {verdict(4), failed("timeout"), failed("timeout")},
                                JuryOptions{JuryMethod::kMean, 1}, kJurors)));
}

TEST_CASE("jury with --repeat: each juror's score is the mean of its samples", "[runner][jury][repeat]") {
  output::CriterionResult r = result_of(
      runner::resolve_criterion(scored(), CallLayout{2, 2, 1}, {verdict(5), verdict(4), verdict(2), failed("timeout")},
                                JuryOptions{JuryMethod::kMean, 0}, kJurors));
  REQUIRE(r.jury.size() == 2);
  CHECK(r.jury[0].score == 4.5);
  CHECK(r.jury[1].score == 2.0);
  CHECK(r.score == 3.25);
  CHECK(r.jury[0].judge.attempts == 2);
}

TEST_CASE("no jury: one verdict, repeated samples, or the first call's error", "[runner]") {
  output::CriterionResult one = result_of(
      runner::resolve_criterion(scored(), CallLayout{}, {verdict(4)}, JuryOptions{}, kJurors));
  CHECK(one.score == 4);
  CHECK(one.samples.empty());
  CHECK(one.judge->provider == "p");
  output::CriterionResult repeated = result_of(runner::resolve_criterion(
      scored(), CallLayout{1, 3, 1}, {verdict(4), failed("timeout"), verdict(5)}, JuryOptions{}, kJurors));
  CHECK(repeated.score == 4.5);
  CHECK(repeated.samples.size() == 2);
  CHECK(repeated.samples_failed == 1);
  auto error = runner::resolve_criterion(scored(), CallLayout{}, {failed("auth")}, JuryOptions{}, kJurors);
  REQUIRE(std::holds_alternative<output::ResultError>(error));
  CHECK(std::get<output::ResultError>(error).kind == "auth");
}
