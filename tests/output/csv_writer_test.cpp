#include "core/output/csv_writer.h"

#include <catch2/catch.hpp>

#include <sstream>
#include <string>

using llmeval::output::CriterionResult;
using llmeval::output::csv_field;
using llmeval::output::CsvWriter;
using llmeval::output::ResultError;
using llmeval::output::ResultRecord;
using llmeval::output::Status;

TEST_CASE("csv_field quotes per RFC 4180 only when needed", "[format][csv]") {
  CHECK(csv_field("plain") == "plain");
  CHECK(csv_field("") == "");
  CHECK(csv_field("a,b") == "\"a,b\"");
  CHECK(csv_field("say \"hi\"") == "\"say \"\"hi\"\"\"");
  CHECK(csv_field("two\nlines") == "\"two\nlines\"");
  CHECK(csv_field("cr\rhere") == "\"cr\rhere\"");
  CHECK(csv_field("café 日本") == "café 日本");
}

TEST_CASE("csv_field neutralises spreadsheet formulas with a leading apostrophe", "[format][csv]") {
  CHECK(csv_field("=1+1") == "'=1+1");
  CHECK(csv_field("+1") == "'+1");
  CHECK(csv_field("-2") == "'-2");
  CHECK(csv_field("@SUM(A1)") == "'@SUM(A1)");
  CHECK(csv_field("\tx") == "'\tx");
  CHECK(csv_field("=HYPERLINK(\"x\",\"y\")") == "\"'=HYPERLINK(\"\"x\"\",\"\"y\"\")\"");
  CHECK(csv_field("a=b") == "a=b");
  SECTION("numbers the writer formats itself are not text") { CHECK(csv_field("-5", false) == "-5"); }
}

TEST_CASE("CsvWriter writes a header and one CRLF row per result", "[format][csv]") {
  std::ostringstream out;
  CsvWriter writer(out);
  ResultRecord ok;
  ok.id = "q1";
  ok.line = 3;
  CriterionResult c;
  c.name = "correctness";
  c.score = 4;
  c.normalized = 0.75;
  c.pass = true;
  ok.criteria.push_back(c);
  writer.write(ok);
  ResultRecord bad;
  bad.id = 7;
  bad.line = 7;
  bad.status = Status::kInvalid;
  bad.error = ResultError{"invalid_json", "line 7: not JSON, fix it"};
  writer.write(bad);
  CHECK(out.str() ==
        "id,line,status,pass,score,error_kind,error_message,criteria\r\n"
        "q1,3,ok,true,0.75,,,correctness=4 pass\r\n"
        "7,7,invalid,,,invalid_json,\"line 7: not JSON, fix it\",\r\n");
}
