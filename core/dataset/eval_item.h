// EvalItem: one valid dataset row, ready to judge. InvalidLine: one bad row, with a message a
// person can act on. The reader yields one or the other for every non-blank input line.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/dataset/criterion.h"

namespace llmeval::dataset {

struct EvalItem {
  nlohmann::json id;         // string or number; the 1-based line number when the row has none
  std::int64_t line = 0;     // 1-based line number in the dataset
  std::string prompt;        // aliases: input, question
  std::string output;        // aliases: response, completion, actual_output
  std::string reference;     // aliases: expected, expected_output, ideal; empty when absent
  std::string context;       // empty when absent
  // Two answers to compare, for "pairwise" criteria; empty when absent. model_a and model_b
  // name what produced them (optional; the summary ranks models by them).
  std::string output_a;
  std::string output_b;
  std::string model_a;
  std::string model_b;
  nlohmann::json metadata = nlohmann::json::object();
  // Rows sharing a group are not independent (several questions on one document): the summary's
  // intervals are clustered by it. String or number; null when the row has none.
  nlohmann::json group;
  std::vector<Criterion> criteria;  // never empty
  // Human labels (`labels`), by criterion index: a score in the criterion's scale (binary: 0 or
  // 1). Empty when the row has none; nullopt for a criterion without one. Never changes a
  // verdict: the summary measures the judge's agreement with them.
  std::vector<std::optional<double>> labels;
};

struct InvalidLine {
  nlohmann::json id;  // the row's id when it could be read, else the line number
  std::int64_t line = 0;
  std::string kind;     // result error kind: invalid_json, missing_field, invalid_field, line_too_long, ...
                        // (the full list is in jsonl_reader.h)
  std::string message;  // starts "line N: ", says what is wrong and what to do; valid UTF-8
};

}  // namespace llmeval::dataset
