// Parses the `criteria` field of a dataset row (docs/formats.md §2) into validated Criterion values:
// a string (one LLM criterion named "default"), an object {name: rubric}, or an array of
// strings (named c1, c2, ...) or criterion objects (LLM: name, rubric, scale, threshold, weight;
// deterministic: name, type, value). Regexes are compiled here, so a bad one is caught per row.
//
// Order: arrays keep their order; the {name: rubric} form comes out sorted by name (nlohmann::json
// objects are sorted maps). Strict: unknown keys in a criterion object ("treshold") are errors.
// Regexes are RE2 syntax (criterion_regex.h: linear-time matching, no backreferences or
// lookaround), at most 2000 bytes, and shared through a small per-thread cache.
// Pure apart from that cache; thread-safe.
#pragma once

#include <string>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/dataset/criterion.h"

namespace llmeval::dataset {

struct CriteriaError {
  std::string kind;     // "invalid_criteria" (wrong shape/type/value) or "invalid_regex"
  std::string message;  // names the criterion and what to fix
};

using CriteriaResult = std::variant<std::vector<Criterion>, CriteriaError>;

CriteriaResult parse_criteria(const nlohmann::json& criteria, Scale default_scale);

// "1-5" | "1-10" | "binary" -> Scale; false when the text is none of them.
bool parse_scale(const std::string& text, Scale& scale);

}  // namespace llmeval::dataset
