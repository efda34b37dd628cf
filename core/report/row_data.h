// The row table's data: one compact JSON object per result row, as report.js reads it (keys
// documented in assets/report.js): short keys, because 100,000 rows are embedded in one file.
#pragma once

#include <cstddef>
#include <map>
#include <string>

#include "core/output/result_record.h"
#include "core/report/dataset_texts.h"
#include "core/report/run_comparison.h"

namespace llmeval::report {

struct RowContext {
  const std::map<std::string, std::size_t>* criterion_index = nullptr;  // name -> column
  const RowTexts* texts = nullptr;          // prompt and output, when a dataset was given
  bool comparing = false;                   // a baseline was given
  const BaselineRow* baseline = nullptr;    // this row in the baseline, when it has it
  std::size_t max_text_bytes = 2000;
};

// Appends {"l":..,"i":..,"s":..,"p":..,"sc":..,"c":[..],"e":[..],"pr":..,"o":..,"b":{..},"ch":..}.
void append_row_data(std::string& out, const output::ResultRecord& row, const RowContext& context);

// Appends {"l":..,"i":..,"s":..,"p":..,"sc":..} for a row only the baseline has.
void append_baseline_only_row(std::string& out, const BaselineRow& row);

}  // namespace llmeval::report
