// Deterministic criteria (pure, no provider call): contains, not_contains, equals, regex, json,
// max_chars, min_chars. max/min_chars count Unicode code points, not bytes.
#pragma once

#include <string>
#include <string_view>

#include "core/dataset/criterion.h"

namespace llmeval::judge {

struct CheckOutcome {
  bool pass = false;
  std::string reason;  // short, says why: "output contains \"Paris\"", "412 chars > max 400"
};

CheckOutcome run_check(const dataset::Criterion& criterion, std::string_view output);

}  // namespace llmeval::judge
