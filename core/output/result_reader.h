// parse_result_line: one results-file line (docs/formats.md §3, as ResultWriter writes it) back into a
// ResultRecord, for --resume today and for merge and report. Round trip: what append_json
// writes, parse_result_line reads back to an equal record. A line that is not a result row is
// an Error (kParse) saying what is wrong with it: "not a result row: not valid JSON", or, for a
// field of the wrong type, which one by its path in the row: `not a result row: field
// "criteria.tone.score" must be a number, got null`. Fields that are missing keep their
// defaults (older versions wrote fewer). Nothing here throws; pure apart from a per-thread
// parser.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "core/common/error.h"
#include "core/output/result_record.h"

namespace llmeval::output {

Result<ResultRecord> parse_result_line(std::string_view line);

// The same with nlohmann's parser alone. parse_result_line reads well-formed rows with simdjson
// (~5x faster: report, merge and --resume read whole files) and hands every other line to this;
// exposed so a test can check the two agree.
Result<ResultRecord> parse_result_line_nlohmann(std::string_view line);

// Calls fn(record) for every row of a results file, streaming, and returns the number of rows.
// A line that is not a result row (a torn last line, another file, a field of the wrong type)
// stops it with an Error (kParse) naming the file and line, "results.jsonl:7: not a result row:
// ...": a conversion or report must never drop rows silently. kIo when the file cannot be read.
Result<std::int64_t> for_each_result_row(const std::string& path,
                                         const std::function<void(const ResultRecord&)>& fn);

}  // namespace llmeval::output
