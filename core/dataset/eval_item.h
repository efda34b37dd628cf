// EvalItem: one valid dataset row, ready to judge. InvalidLine: one bad row, with a message a
// person can act on. The reader yields one or the other for every non-blank input line.
#pragma once

#include <cstdint>
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
  nlohmann::json metadata = nlohmann::json::object();
  // Rows sharing a group are not independent (several questions on one document): the summary's
  // intervals are clustered by it. String or number; null when the row has none.
  nlohmann::json group;
  std::vector<Criterion> criteria;  // never empty
};

struct InvalidLine {
  nlohmann::json id;  // the row's id when it could be read, else the line number
  std::int64_t line = 0;
  std::string kind;     // result error kind: invalid_json, missing_field, invalid_field, line_too_long, ...
                        // (the full list is in jsonl_reader.h)
  std::string message;  // starts "line N: ", says what is wrong and what to do; valid UTF-8
};

}  // namespace llmeval::dataset
