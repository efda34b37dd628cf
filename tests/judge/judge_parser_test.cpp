#include "core/judge/judge_parser.h"

#include <string>
#include <vector>

#include <catch2/catch.hpp>

namespace llmeval::judge {
namespace {

using dataset::Scale;

struct Accepted {
  const char* name;
  std::string reply;
  Scale scale;
  double score;
  const char* reason;
};

struct Rejected {
  const char* name;
  std::string reply;
  Scale scale;
  const char* message_part;  // the error message contains this
};

TEST_CASE("parse_judge_reply accepts the forms judges actually write", "[judge]") {
  const std::vector<Accepted> cases = {
      {"plain object", R"({"score": 4, "pass": true, "reason": "Correct."})", Scale::k1to5, 4,
       "Correct."},
      {"json fence", "```json\n{\"score\": 3, \"reason\": \"Partly.\"}\n```", Scale::k1to5, 3,
       "Partly."},
      {"bare fence", "```\n{\"score\": 2, \"reason\": \"Weak.\"}\n```", Scale::k1to5, 2, "Weak."},
      {"prose around",
       "Here is my verdict:\n{\"score\": 5, \"reason\": \"Great.\"}\nHope it helps!", Scale::k1to5,
       5, "Great."},
      {"braces inside reason", R"({"score": 4, "reason": "Uses {x} and } and \"{\" fine."})",
       Scale::k1to5, 4, "Uses {x} and } and \"{\" fine."},
      {"prose braces before object", "I weigh {accuracy} first. {\"score\": 2, \"reason\": \"r\"}",
       Scale::k1to5, 2, "r"},
      {"numeric string", R"({"score": "4", "reason": "ok"})", Scale::k1to5, 4, "ok"},
      {"padded decimal string", R"({"score": " 4.0 "})", Scale::k1to5, 4, ""},
      {"fraction string", R"({"score": "4/5"})", Scale::k1to5, 4, ""},
      {"fraction of ten", R"({"score": "8/10"})", Scale::k1to10, 8, ""},
      {"decimal number", R"({"score": 6.5})", Scale::k1to10, 6.5, ""},
      {"scale ends", R"({"score": 10})", Scale::k1to10, 10, ""},
      {"rating fallback", R"({"rating": 3, "explanation": "Fine."})", Scale::k1to5, 3, "Fine."},
      {"rationale", R"({"score": 1, "rationale": "Wrong."})", Scale::k1to5, 1, "Wrong."},
      {"capitalised keys", R"({"Score": 5, "Reason": "Yes."})", Scale::k1to5, 5, "Yes."},
      {"missing reason", R"({"score": 3})", Scale::k1to5, 3, ""},
      {"non-string reason", R"({"score": 3, "reason": ["a"]})", Scale::k1to5, 3, ""},
      {"binary 1", R"({"score": 1})", Scale::kBinary, 1, ""},
      {"binary 0", R"({"score": 0})", Scale::kBinary, 0, ""},
      {"binary 1.0", R"({"score": 1.0})", Scale::kBinary, 1, ""},
      {"binary true", R"({"score": true})", Scale::kBinary, 1, ""},
      {"binary false", R"({"score": false})", Scale::kBinary, 0, ""},
      {"binary yes", R"({"score": "yes"})", Scale::kBinary, 1, ""},
      {"binary NO", R"({"score": "NO"})", Scale::kBinary, 0, ""},
      {"binary pass", R"({"score": "pass"})", Scale::kBinary, 1, ""},
      {"binary fail", R"({"score": " fail "})", Scale::kBinary, 0, ""},
      {"binary string 1", R"({"score": "1"})", Scale::kBinary, 1, ""},
      {"judge pass ignored", R"({"score": 2, "pass": true})", Scale::k1to5, 2, ""},
      {"multiple objects: first with a score wins",
       "{\"score\": 2, \"reason\": \"first\"}\n{\"score\": 5, \"reason\": \"second\"}",
       Scale::k1to5, 2, "first"},
      {"object without score skipped",
       "{\"note\": \"draft\"} then {\"score\": 4, \"reason\": \"r\"}", Scale::k1to5, 4, "r"},
      {"unicode reason", R"({"score": 4, "reason": "caf\u00e9 \u2713"})", Scale::k1to5, 4,
       "caf\xC3\xA9 \xE2\x9C\x93"},
  };
  for (const auto& c : cases) {
    INFO(c.name);
    const auto result = parse_judge_reply(c.reply, c.scale);
    REQUIRE(result.ok());
    CHECK(result.value().score == Approx(c.score));
    CHECK(result.value().reason == c.reason);
  }
}

TEST_CASE("parse_judge_reply never invents a score", "[judge]") {
  const std::vector<Rejected> cases = {
      {"empty", "", Scale::k1to5, "empty"},
      {"whitespace", "  \n\t ", Scale::k1to5, "empty"},
      {"prose only", "The answer is good, I'd give it a 4.", Scale::k1to5, "no JSON object"},
      {"unbalanced", R"({"score": 4, "reason": "cut off)", Scale::k1to5, "no JSON object"},
      {"missing score", R"({"reason": "Good."})", Scale::k1to5, "score"},
      {"array not object", R"([{"reason": 4}])", Scale::k1to5, "score"},
      {"word score", R"({"score": "excellent"})", Scale::k1to5, "is not a number"},
      {"null score", R"({"score": null})", Scale::k1to5, "is not a number"},
      {"bool on 1-5", R"({"score": true})", Scale::k1to5, "is not a number"},
      {"yes on 1-10", R"({"score": "yes"})", Scale::k1to10, "is not a number"},
      {"nested object score", R"({"score": {"value": 4}})", Scale::k1to5, "is not a number"},
      {"trailing junk", R"({"score": "4 stars"})", Scale::k1to5, "is not a number"},
      {"fraction without denominator", R"({"score": "4/"})", Scale::k1to5, "is not a number"},
      {"fraction with a word", R"({"score": "4/five"})", Scale::k1to5, "is not a number"},
      {"nan string", R"({"score": "nan"})", Scale::k1to5, "not a finite number"},
      {"inf string", R"({"score": "inf"})", Scale::k1to5, "not a finite number"},
      {"above range", R"({"score": 7})", Scale::k1to5, "score 7 is outside the 1-5 scale"},
      {"below range", R"({"score": 0})", Scale::k1to5, "score 0 is outside the 1-5 scale"},
      {"above ten", R"({"score": "11/10"})", Scale::k1to10, "score 11 is outside the 1-10 scale"},
      {"decimal out of range", R"({"score": 5.5})", Scale::k1to5, "score 5.5 is outside"},
      {"negative", R"({"score": -1})", Scale::k1to10, "outside the 1-10 scale"},
      {"binary 2", R"({"score": 2})", Scale::kBinary, "not 0 or 1"},
      {"binary half", R"({"score": 0.5})", Scale::kBinary, "score 0.5 is not 0 or 1"},
      {"first scored object is out of range", "{\"score\": 9}\n{\"score\": 3}", Scale::k1to5,
       "outside"},
  };
  for (const auto& c : cases) {
    INFO(c.name);
    const auto result = parse_judge_reply(c.reply, c.scale);
    REQUIRE_FALSE(result.ok());
    CHECK(result.error().kind == ErrorKind::kParse);
    CHECK_THAT(result.error().message, Catch::Contains(c.message_part));
  }
}

TEST_CASE("parse_judge_reply gives up quickly on brace-heavy garbage", "[judge]") {
  const std::string reply(100000, '{');
  const auto result = parse_judge_reply(reply, Scale::k1to5);
  REQUIRE_FALSE(result.ok());
  CHECK(result.error().kind == ErrorKind::kParse);
}

}  // namespace
}  // namespace llmeval::judge

TEST_CASE("parse_pairwise_reply reads the winner by the label it was shown under", "[judge][pairwise]") {
  auto code = [](std::string_view text) { return static_cast<llmeval::judge::Shown>(static_cast<int>(llmeval::judge::parse_pairwise_reply(text).value().score)); };
  CHECK(code(R"({"reason": "clearer", "winner": "A"})") == llmeval::judge::Shown::kA);
  CHECK(code(R"({"reason": "clearer", "winner": "b"})") == llmeval::judge::Shown::kB);
  CHECK(code(R"(Verdict: ```json {"winner": "Answer B", "reason": "x"}``` done)") == llmeval::judge::Shown::kB);
  CHECK(code(R"({"winner": "Tie"})") == llmeval::judge::Shown::kTie);
  CHECK(code(R"({"better": "draw"})") == llmeval::judge::Shown::kTie);
  CHECK(llmeval::judge::parse_pairwise_reply(R"({"reason": "r", "winner": "A"})").value().reason == "r");
  for (std::string_view bad : {"", "A is better.", R"({"score": 4})", R"({"winner": "C"})", R"({"winner": 1})"}) {
    INFO(bad);
    auto verdict = llmeval::judge::parse_pairwise_reply(bad);
    REQUIRE_FALSE(verdict.ok());
    CHECK(verdict.error().kind == llmeval::ErrorKind::kParse);
  }
  CHECK(llmeval::judge::parse_pairwise_reply(R"({"winner": "C"})").error().message == R"(winner "C" is not "A", "B" or "tie")");
}
