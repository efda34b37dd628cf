// Criterion: one thing a row is judged on. Either judged by an LLM (a rubric on a scale) or a
// deterministic check that makes no provider call (contains, regex, json, ...).
// Plain values; criteria are parsed and validated by criteria_parser.h.
#pragma once

#include <memory>
#include <string>

#include <nlohmann/json.hpp>

namespace re2 {
class RE2;
}

namespace llmeval::dataset {

enum class Scale { k1to5, k1to10, kBinary };

// Score range of a scale, in the scale's own units: 1-5, 1-10, and 0-1 for binary.
struct ScaleRange {
  int min;
  int max;
};
ScaleRange range_of(Scale scale);
// "1-5", "1-10", "binary".
const char* to_string(Scale scale);
// Default pass threshold in the scale's units: 1-5 -> 4, 1-10 -> 7, binary -> 1.
double default_threshold(Scale scale);

enum class CheckType { kContains, kNotContains, kEquals, kRegex, kJson, kMaxChars, kMinChars };
const char* to_string(CheckType type);

struct Criterion {
  std::string name;
  bool llm = true;  // true: judged by a provider; false: deterministic `check`
  // "type": "pairwise" (LLM-judged): the judge picks the better of the row's two answers,
  // output_a and output_b, shown once in each order. No scale or threshold: see
  // docs/formats.md for its score (answer b's points: 1 win, 0.5 tie, 0 loss).
  bool pairwise = false;

  // LLM-judged
  std::string rubric;
  Scale scale = Scale::k1to5;
  double threshold = 4;  // score >= threshold passes; in the scale's units
  double weight = 1.0;

  // Deterministic
  CheckType check = CheckType::kContains;
  nlohmann::json value;                // the check's argument as given
  std::shared_ptr<const re2::RE2> regex;  // compiled once for kRegex (criterion_regex.h)
};

}  // namespace llmeval::dataset
