// CsvWriter: results as CSV (RFC 4180), one row per result, written row by row so any number
// of rows needs constant memory. Columns:
//   id,line,status,pass,score,error_kind,error_message,criteria
// `pass` is true/false (empty unless ok), `score` the 0..1 weighted mean (empty unless ok),
// `criteria` the criteria in result order as "name=SCORE pass|fail" joined by "; ".
//
// Fields holding a comma, a quote, CR or LF are quoted and quotes doubled; lines end in CRLF.
// Formula-injection guard: a text field starting with = + - @, TAB or CR gets a leading
// apostrophe, so a spreadsheet shows it as text instead of evaluating it. Numbers we format
// ourselves (line, score, numeric ids) are left alone.
//
// Does not own the stream; `out` must outlive the writer. Not thread-safe. Stream failures are
// the caller's to check.
#pragma once

#include <ostream>
#include <string>
#include <string_view>

#include "core/output/result_record.h"

namespace llmeval::output {

// One CSV field: the injection guard (when `text`), then RFC 4180 quoting when needed.
std::string csv_field(std::string_view value, bool text = true);

class CsvWriter {
 public:
  explicit CsvWriter(std::ostream& out);  // writes the header line at once
  void write(const ResultRecord& record);

 private:
  std::ostream& out_;
  std::string line_;  // reused buffer
};

}  // namespace llmeval::output
