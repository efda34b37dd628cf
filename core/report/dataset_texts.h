// DatasetTexts: the prompt and output of every dataset line, for the report's row table
// (results rows carry neither). Each text is cut to max_bytes, so memory is bounded by
// lines x 2 x max_bytes; the dataset is streamed line by line.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>

#include "core/common/error.h"

namespace llmeval::report {

struct RowTexts {
  std::string prompt;  // empty when the line has none (or is not a JSON object)
  std::string output;
};

class DatasetTexts {
 public:
  // Reads `path` (a file). An Error (kIo) when it cannot be read.
  static Result<std::unique_ptr<DatasetTexts>> load(const std::string& path, std::size_t max_bytes);

  // Null for a line (1-based) the dataset does not have.
  const RowTexts* find(std::int64_t line) const;

 private:
  DatasetTexts() = default;
  std::unordered_map<std::int64_t, RowTexts> texts_;
};

// The prompt and output fields of one dataset line, under any of the dataset's aliases
// (docs/formats.md §2); a value that is not a string is shown as its JSON. Lines that are not
// JSON objects give empty texts: the report shows what it can.
RowTexts texts_of_line(const std::string& line, std::size_t max_bytes);

}  // namespace llmeval::report
