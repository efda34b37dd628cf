#include "core/output/junit_writer.h"

#include <catch2/catch.hpp>

#include <sstream>
#include <string>

using llmeval::output::CriterionResult;
using llmeval::output::JudgeInfo;
using llmeval::output::JunitTotals;
using llmeval::output::JunitWriter;
using llmeval::output::ResultError;
using llmeval::output::ResultRecord;
using llmeval::output::Status;
using llmeval::output::xml_escape;

namespace {

ResultRecord judged(const std::string& id, bool pass, std::int64_t latency_ms, const std::string& reason = "ok") {
  ResultRecord record;
  record.id = id;
  record.line = 1;
  CriterionResult c;
  c.name = "correctness";
  c.score = pass ? 5 : 1;
  c.normalized = pass ? 1 : 0;
  c.pass = pass;
  c.reason = reason;
  c.judge = JudgeInfo{};
  c.judge->latency_ms = latency_ms;
  record.criteria.push_back(c);
  return record;
}

}  // namespace

TEST_CASE("xml_escape escapes markup and drops what XML 1.0 forbids", "[format][junit]") {
  CHECK(xml_escape("a & b < c > d \" e ' f") == "a &amp; b &lt; c &gt; d &quot; e &apos; f");
  CHECK(xml_escape("bell\x07 esc\x1b nul") == "bell esc nul");
  CHECK(xml_escape(std::string("nul\0here", 8)) == "nulhere");
  CHECK(xml_escape("tab\tnl\n") == "tab\tnl\n");
  CHECK(xml_escape("tab\tnl\n", true) == "tab&#9;nl&#10;");
  CHECK(xml_escape("cr\r") == "cr&#13;");
  CHECK(xml_escape("café 日本 😀") == "café 日本 😀");
  SECTION("invalid UTF-8 becomes U+FFFD") {
    CHECK(xml_escape("bad\xff byte") == "bad\xEF\xBF\xBD byte");
    CHECK(xml_escape("cut \xE6\x97") == "cut \xEF\xBF\xBD\xEF\xBF\xBD");
    CHECK(xml_escape("overlong \xC0\xAF") == "overlong \xEF\xBF\xBD\xEF\xBF\xBD");
    CHECK(xml_escape("surrogate \xED\xA0\x80") == "surrogate \xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");
  }
  CHECK(xml_escape("\xEF\xBF\xBF") == "");  // U+FFFF is not an XML character
}

TEST_CASE("JunitTotals counts failures, errors and judge time", "[format][junit]") {
  JunitTotals totals;
  totals.add(judged("a", true, 100));
  totals.add(judged("b", false, 250));
  ResultRecord error;
  error.status = Status::kError;
  error.error = ResultError{"timeout", "line 3: timed out"};
  totals.add(error);
  ResultRecord invalid;
  invalid.status = Status::kInvalid;
  invalid.error = ResultError{"invalid_json", "line 4: bad"};
  totals.add(invalid);
  CHECK(totals.tests == 4);
  CHECK(totals.failures == 1);
  CHECK(totals.errors == 2);
  CHECK(totals.skipped == 0);
  CHECK(totals.time_ms == 350);
}

TEST_CASE("JunitWriter writes failures and errors as CI systems read them", "[format][junit]") {
  JunitTotals totals;
  ResultRecord pass = judged("a", true, 1500);
  ResultRecord fail = judged("<b>", false, 20, "wrong \xff\x01 city");
  ResultRecord invalid;
  invalid.id = 4;
  invalid.status = Status::kInvalid;
  invalid.error = ResultError{"invalid_json", "line 4: bad\nline"};
  for (const auto* r : {&pass, &fail, &invalid}) totals.add(*r);
  std::ostringstream out;
  JunitWriter writer(out, totals, "llmeval.set");
  writer.write(pass);
  writer.write(fail);
  writer.write(invalid);
  writer.finish();
  std::string xml = out.str();
  CHECK(xml.find("<testsuite name=\"llmeval\" tests=\"3\" failures=\"1\" errors=\"1\" skipped=\"0\" time=\"1.520\">") !=
        std::string::npos);
  CHECK(xml.find("<testcase classname=\"llmeval.set\" name=\"a\" time=\"1.500\">") != std::string::npos);
  CHECK(xml.find("name=\"&lt;b&gt;\" time=\"0.020\"") != std::string::npos);
  CHECK(xml.find("<failure type=\"criteria\" message=\"1 of 1 criteria failed: correctness\">") !=
        std::string::npos);
  CHECK(xml.find("wrong \xEF\xBF\xBD city") != std::string::npos);
  CHECK(xml.find("<error type=\"invalid_json\" message=\"line 4: bad&#10;line\">") != std::string::npos);
  CHECK(xml.find('\x01') == std::string::npos);
  CHECK(xml.substr(xml.size() - 29) == "  </testsuite>\n</testsuites>\n");
}
