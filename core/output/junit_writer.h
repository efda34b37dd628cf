// JUnit XML for CI systems (Jenkins JUnit plugin, GitLab, GitHub test reporters): one
// <testsuites> holding one <testsuite name="llmeval">, one <testcase> per result row.
//   ok and pass      -> a passing testcase
//   ok and not pass  -> <failure message="N of M criteria failed: a, b" type="criteria">
//                       listing each failing criterion's score and reason
//   error, invalid   -> <error type="<error kind>" message="<error message>">; invalid rows are
//                       errors rather than skipped so CI shows them (a bad dataset line is a
//                       failure of the run, exit 1, not something to hide)
// Every testcase carries the judge reasons in <system-out>. The time attributes are the rows'
// judge latencies (the sum of each criterion's judge.latency_ms), not the wall clock, so the
// same results always give the same bytes; the suite's time is the sum over its rows.
//
// The <testsuite> attributes need the counts before the first testcase, so the caller makes
// two passes: JunitTotals::add over every row, then JunitWriter over the same rows.
// Text is escaped for XML 1.0; characters XML 1.0 forbids (control characters other than tab,
// LF and CR, U+FFFE/U+FFFF) are dropped and invalid UTF-8 becomes U+FFFD.
//
// Does not own the stream; `out` must outlive the writer. Not thread-safe.
#pragma once

#include <cstdint>
#include <ostream>
#include <string>
#include <string_view>

#include "core/output/result_record.h"

namespace llmeval::output {

// XML-escapes text (& < > " ' and, for attributes, tab/LF/CR as character references) after
// dropping what XML 1.0 forbids and replacing invalid UTF-8 with U+FFFD.
std::string xml_escape(std::string_view text, bool attribute = false);

// A row's judge latency: the sum of its criteria's judge.latency_ms.
std::int64_t row_latency_ms(const ResultRecord& record);

struct JunitTotals {
  std::int64_t tests = 0;
  std::int64_t failures = 0;  // ok rows that did not pass
  std::int64_t errors = 0;    // error and invalid rows
  std::int64_t skipped = 0;   // always 0 today
  std::int64_t time_ms = 0;   // sum of row_latency_ms

  void add(const ResultRecord& record);
};

class JunitWriter {
 public:
  // Writes the XML declaration and the opening <testsuites>/<testsuite> with `totals`.
  // `classname` is every testcase's classname, e.g. "llmeval.sample".
  JunitWriter(std::ostream& out, const JunitTotals& totals, std::string classname);
  void write(const ResultRecord& record);
  void finish();  // closes the elements; call once after the last row

 private:
  std::ostream& out_;
  std::string classname_;
  std::string buffer_;  // reused
};

}  // namespace llmeval::output
