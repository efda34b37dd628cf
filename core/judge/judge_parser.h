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

}  // namespace llmeval::judge
