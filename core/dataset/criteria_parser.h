// Parses the `criteria` field of a dataset row (SPEC §2) into validated Criterion values:
// a string (one LLM criterion named "default"), an object {name: rubric}, or an array of
// strings (named c1, c2, ...) or criterion objects (LLM: name, rubric, scale, threshold, weight;
// deterministic: name, type, value). Regexes are compiled here, so a bad one is caught per row.
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
