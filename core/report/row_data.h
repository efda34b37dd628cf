// The row table's data: one compact JSON object per result row, as assets/report.js reads it,
// with short keys because 100,000 rows are embedded in one file. The whole embedded document
// (gzip, then base64, in <script id="report-data">; see html_report.cpp) is
//
//   {"version": 1, "criteria": [names, in column order], "has_texts": bool (--dataset given),
//    "baseline": null | {"name": "old.jsonl"}, "rows": [Row, ...] (results-file order),
//    "baseline_only": [{"l", "i", "s", "p", "sc"}, ...] (rows only the baseline has)}
//
//   Row: "l" line, "i" id as text, "s" "ok"|"error"|"invalid", "p" pass (null unless ok),
//     "sc" score 0..1 (null unless ok),
//     "c" [[criterion index, score, normalized, pass 1/0, reason, judge ("provider/model" or
//          "check:TYPE", or "jury of N"), latency_ms, fallback 1/0, extras?], ...], where extras,
//          only for a criterion with a human label, a jury or a pairwise verdict, is
//          {"lb" label, "j" [[provider, model, score or null (abstained), status, reason,
//          winner ("" unless pairwise)], ...] jurors in -p order, "t" 1 on a --jury majority tie,
//          "w" winner "a"|"b"|"tie", "pi" position_inconsistent 1/0,
//          "or" [[shown_as_a "a"|"b", winner "A"|"B"|"tie" as the judge named it, reason,
//          "provider/model"], ...] both orders (pairwise)},
//     "ma", "mb" model_a and model_b (pairwise rows that name them),
//     "e" [error kind, message] (error and invalid rows),
//     "pr", "o" prompt and output (with --dataset; cut to --max-text with "… [+N bytes]"),
//     "b" {"s", "p", "sc", "c": [[criterion index, normalized, pass 1/0], ...]} the baseline row,
//     "ch" how the verdict moved: regressed|fixed|new_error|recovered|changed|new (absent: same).
//
// Every text is untrusted user data: report.js only ever puts it in the page as text.
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

// Appends {"l":..,"i":..,"s":..,"p":..,"sc":..,"c":[..],"ma":..,"mb":..,"e":[..],"pr":..,"o":..,"b":{..},"ch":..}.
void append_row_data(std::string& out, const output::ResultRecord& row, const RowContext& context);

// Appends {"l":..,"i":..,"s":..,"p":..,"sc":..} for a row only the baseline has.
void append_baseline_only_row(std::string& out, const BaselineRow& row);

}  // namespace llmeval::report
