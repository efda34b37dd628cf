// Turns a judge's reply text into a Verdict (pure). Tolerant: code fences, prose around the
// JSON object, numbers given as strings ("4", "4/5"), "true"/"false" for binary. Never invents a
// score: a reply without a usable score, or with one outside the scale, is an Error of kind
// kParse whose message says what was wrong (it is shown to the judge in the repair attempt).
#pragma once

#include <string>
#include <string_view>

#include "core/common/error.h"
#include "core/dataset/criterion.h"

namespace llmeval::judge {

struct Verdict {
  double score = 0;  // in the scale's units, within its range
  std::string reason;
};

Result<Verdict> parse_judge_reply(std::string_view text, dataset::Scale scale);

// A pairwise verdict names the better answer by the label it was shown under. Its Verdict's
// score holds that label's code, so it travels through the judge cache like a score (a
// pairwise request's score range is 0-2).
enum class Shown { kTie = 0, kA = 1, kB = 2 };
const char* to_string(Shown shown);  // "A", "B", "tie"

// A pairwise judge's reply, {"reason": "...", "winner": "A" | "B" | "tie"}, as tolerantly as
// parse_judge_reply ("answer a", "Tie", fences, prose around it). Verdict::score is the Shown
// code; an Error (kParse) says what was wrong.
Result<Verdict> parse_pairwise_reply(std::string_view text);

}  // namespace llmeval::judge
