// parse_result_line and for_each_result_row on rows with a field of the wrong type: an error
// naming the field by its path in the row (and, from the file reader, the file and line), never
// an exception from the JSON library ("[json.exception.type_error.302] type must be number, but
// is null"). Both parsers are checked: the fast one hands every such row to the other.
#include "core/output/result_reader.h"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "tests/support/files.h"

namespace {

using namespace llmeval;

// A well-formed ok row with one criterion named `name`; `criterion` replaces its fields.
std::string row_with(const std::string& criterion, const std::string& name = "correctness") {
  return R"({"id":"q1","line":3,"status":"ok","pass":true,"score":1,"criteria":{")" + name + R"(":)" + criterion +
         R"(},"metadata":{},"error":null})";
}

const std::string kJudge =
    R"("judge":{"provider":"openai","model":"m","attempts":1,"fallback":false,"latency_ms":5,"tokens":{"input":3,"output":1}})";

struct Case {
  const char* name;
  std::string line;
  std::string message;
};

}  // namespace

TEST_CASE("a field of the wrong type is an error naming its path, from both parsers", "[output][result_reader]") {
  const std::vector<Case> cases = {
      {"a null score", row_with(R"({"score":null,"normalized":1,"pass":true,"reason":"r"})"),
       R"(not a result row: field "criteria.correctness.score" must be a number, got null)"},
      {"a numeric status", R"({"id":"q1","line":3,"status":5,"criteria":{}})",
       R"(not a result row: field "status" must be "ok", "error" or "invalid", got 5)"},
      {"an unknown status", R"({"id":"q1","line":3,"status":"done","criteria":{}})",
       R"(not a result row: field "status" must be "ok", "error" or "invalid", got "done")"},
      {"a line as text", R"({"id":"q1","line":"3","status":"ok"})",
       R"(not a result row: field "line" must be a positive whole number, got "3")"},
      {"line 0", R"({"id":"q1","line":0,"status":"ok"})",
       R"(not a result row: field "line" must be a positive whole number, got 0)"},
      {"pass as text", row_with(R"({"score":5,"normalized":1,"pass":"yes","reason":"r"})"),
       R"(not a result row: field "criteria.correctness.pass" must be true or false, got "yes")"},
      {"a null reason", row_with(R"({"score":5,"normalized":1,"pass":true,"reason":null})"),
       R"(not a result row: field "criteria.correctness.reason" must be a string, got null)"},
      {"a weight as an array", row_with(R"({"score":1,"normalized":1,"pass":true,"reason":"","weight":[2]})"),
       R"(not a result row: field "criteria.correctness.weight" must be a number, got an array)"},
      {"a criterion that is no object", row_with("3"),
       R"(not a result row: field "criteria.correctness" must be an object, got 3)"},
      {"a fractional attempt count",
       row_with(R"({"score":5,"normalized":1,"pass":true,"reason":"r","judge":{"provider":"p","attempts":1.5}})"),
       R"(not a result row: field "criteria.correctness.judge.attempts" must be a whole number, got 1.5)"},
      {"a token count as text",
       row_with(R"({"score":5,"normalized":1,"pass":true,"reason":"r","judge":{"tokens":{"input":"300"}}})"),
       R"(not a result row: field "criteria.correctness.judge.tokens.input" must be a whole number, got "300")"},
      {"a provider as a number", row_with(R"({"score":5,"normalized":1,"pass":true,"reason":"r","judge":{"provider":7}})"),
       R"(not a result row: field "criteria.correctness.judge.provider" must be a string, got 7)"},
      {"an error kind as a number", R"({"id":"q1","line":3,"status":"error","criteria":{},"error":{"kind":5,"message":"m"}})",
       R"(not a result row: field "error.kind" must be a string, got 5)"},
      {"a criterion name that is not one word", row_with(R"({"score":null})", "my tone"),
       R"(not a result row: field "criteria[\"my tone\"].score" must be a number, got null)"},
      {"a long text is cut", row_with(R"({"score":")" + std::string(300, 'x') + R"("})"),
       R"(not a result row: field "criteria.correctness.score" must be a number, got ")" + std::string(40, 'x') +
           R"(...")"},
      // What is not a row at all keeps its plain message.
      {"not JSON", R"({"id":"q1","line":3,"sta)", "not a result row: not valid JSON"},
      {"no line", R"({"id":"q1","status":"ok"})", R"(not a result row: no positive integer "line")"},
      {"no status", R"({"id":"q1","line":3})", R"(not a result row: no "status")"},
  };
  for (const Case& c : cases) {
    for (auto parse : {&output::parse_result_line, &output::parse_result_line_nlohmann}) {
      INFO(c.name << ": " << c.line);
      Result<output::ResultRecord> record = output::ResultRecord{};
      REQUIRE_NOTHROW(record = parse(c.line));
      REQUIRE_FALSE(record.ok());
      CHECK(record.error().kind == ErrorKind::kParse);
      CHECK(record.error().message == c.message);
    }
  }
}

TEST_CASE("the first field of the wrong type is the one named", "[output][result_reader]") {
  auto record = output::parse_result_line(
      row_with(R"({"score":"x","normalized":null,"pass":1,"reason":"r",)" + kJudge + "}"));
  REQUIRE_FALSE(record.ok());
  CHECK(record.error().message ==
        R"(not a result row: field "criteria.correctness.score" must be a number, got "x")");
}

TEST_CASE("rows of the right types still read whole, defaults for what is missing", "[output][result_reader]") {
  for (auto parse : {&output::parse_result_line, &output::parse_result_line_nlohmann}) {
    auto record = parse(row_with(R"({"score":4,"normalized":0.75,"pass":true,"reason":"ok",)" + kJudge + "}"));
    REQUIRE(record.ok());
    REQUIRE(record.value().criteria.size() == 1);
    CHECK(record.value().criteria[0].score == 4);
    CHECK(record.value().criteria[0].judge->attempts == 1);
    CHECK(record.value().criteria[0].weight == 1.0);
    // Containers of another type are ignored, as before (an error row's "error": null).
    auto lenient = parse(R"({"line":1,"status":"ok","criteria":[],"metadata":"x","error":null})");
    REQUIRE(lenient.ok());
    CHECK(lenient.value().criteria.empty());
  }
}

TEST_CASE("for_each_result_row names the file, the line and the field", "[output][result_reader]") {
  testing::TempDir dir;
  const std::string path = dir.file("results.jsonl");
  testing::write_file(path, row_with(R"({"score":5,"normalized":1,"pass":true,"reason":"r"})") + "\n" +
                                row_with(R"({"score":null,"normalized":1,"pass":true,"reason":"r"})") + "\n");
  int seen = 0;
  auto rows = output::for_each_result_row(path, [&](const output::ResultRecord&) { ++seen; });
  REQUIRE_FALSE(rows.ok());
  CHECK(rows.error().kind == ErrorKind::kParse);
  CHECK(rows.error().message ==
        path + R"(:2: not a result row: field "criteria.correctness.score" must be a number, got null)");
  CHECK(seen == 1);

  auto missing = output::for_each_result_row(dir.file("none.jsonl"), [](const output::ResultRecord&) {});
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().kind == ErrorKind::kIo);
  CHECK(missing.error().message == "cannot read results file " + dir.file("none.jsonl"));

  testing::write_file(path, row_with(R"({"score":5})") + "\n" + row_with(R"({"score":4})") + "\n");
  auto good = output::for_each_result_row(path, [](const output::ResultRecord&) {});
  REQUIRE(good.ok());
  CHECK(good.value() == 2);
}

TEST_CASE("a row's group and a repeated criterion's samples are written and read back by both parsers",
          "[output][result_reader][repeat]") {
  output::ResultRecord record;
  record.id = "q1";
  record.line = 3;
  record.group = "doc-a";
  output::CriterionResult c;
  c.name = "quality";
  c.score = 4.5;
  c.normalized = 0.875;
  c.pass = true;
  c.reason = "first";
  c.judge = output::JudgeInfo{"openai", "m", 2, false, 40, {.input = 20, .output = 4}, false};
  c.samples = {output::Sample{4, true, "first", output::JudgeInfo{"openai", "m", 1, false, 40, {}, false}},
               output::Sample{5, true, "second", output::JudgeInfo{"openai", "m", 1, false, 30, {}, false, true}}};
  c.stddev = 0.7071;
  c.samples_failed = 1;
  record.criteria.push_back(c);
  std::string line;
  output::append_json(line, record);
  CHECK(line.find(R"("line":3,"group":"doc-a","status":"ok")") != std::string::npos);
  for (auto parse : {&output::parse_result_line, &output::parse_result_line_nlohmann}) {
    auto read = parse(line);
    REQUIRE(read.ok());
    CHECK(read.value().group == "doc-a");
    const output::CriterionResult& back = read.value().criteria.at(0);
    REQUIRE(back.samples.size() == 2);
    CHECK(back.samples[1].score == 5);
    CHECK(back.samples[1].pass);
    CHECK(back.samples[1].reason == "second");
    CHECK(back.samples[1].judge.cached);
    CHECK(back.stddev == 0.7071);
    CHECK(back.samples_failed == 1);
    std::string again;
    output::append_json(again, read.value());
    CHECK(again == line);
  }
}

namespace {

// A JudgeInfo naming who judged, with this many calls.
output::JudgeInfo judged_by(const std::string& provider, const std::string& model, int attempts = 0) {
  output::JudgeInfo info;
  info.provider = provider;
  info.model = model;
  info.attempts = attempts;
  return info;
}

}  // namespace

TEST_CASE("labels, jurors and pairwise orders are written and read back by both parsers",
          "[output][result_reader][jury][pairwise]") {
  output::ResultRecord record;
  record.id = 9;
  record.line = 9;
  record.model_a = "m1";
  record.model_b = "m2";
  output::CriterionResult scored;
  scored.name = "correct";
  scored.score = 4;
  scored.normalized = 0.75;
  scored.pass = true;
  scored.scale = "1-5";
  scored.label = 3;
  scored.tie = false;
  scored.jury = {output::JurorVerdict{"openai", "m", 4.0, "fine", "ok", "", false, judged_by("openai", "m", 1)},
                 output::JurorVerdict{"anthropic", "c", std::nullopt, "criterion \"correct\": bad", "judge_unparseable",
                                      "", false, judged_by("anthropic", "c")}};
  output::CriterionResult pairwise;
  pairwise.name = "better";
  pairwise.score = 0.5;
  pairwise.normalized = 0.5;
  pairwise.pass = true;
  pairwise.winner = "tie";
  pairwise.position_inconsistent = true;
  pairwise.judge = judged_by("openai", "m", 2);
  pairwise.orders = {output::PairwiseOrder{"a", "A", "first", judged_by("openai", "m", 1)},
                     output::PairwiseOrder{"b", "A", "second", judged_by("openai", "m", 1)}};
  record.criteria = {scored, pairwise};
  std::string line;
  output::append_json(line, record);
  CHECK(line.find(R"("model_a":"m1","model_b":"m2")") != std::string::npos);
  CHECK(line.find(R"("scale":"1-5","label":3,"jury":[)") != std::string::npos);
  CHECK(line.find(R"("score":null,"reason":"criterion \"correct\": bad","status":"judge_unparseable")") !=
        std::string::npos);
  for (auto parse : {&output::parse_result_line, &output::parse_result_line_nlohmann}) {
    auto read = parse(line);
    REQUIRE(read.ok());
    const output::ResultRecord& back = read.value();
    CHECK(back.model_a == "m1");
    CHECK(back.model_b == "m2");
    REQUIRE(back.criteria.size() == 2);
    CHECK(back.criteria[0].label == 3);
    CHECK(back.criteria[0].scale == "1-5");
    REQUIRE(back.criteria[0].jury.size() == 2);
    CHECK(back.criteria[0].jury[0].score == 4.0);
    CHECK_FALSE(back.criteria[0].jury[1].score);
    CHECK(back.criteria[0].jury[1].status == "judge_unparseable");
    CHECK(back.criteria[1].winner == "tie");
    CHECK(back.criteria[1].position_inconsistent);
    REQUIRE(back.criteria[1].orders.size() == 2);
    CHECK(back.criteria[1].orders[1].shown_as_a == "b");
    CHECK(back.criteria[1].llm);
    std::string again;
    output::append_json(again, back);
    CHECK(again == line);
  }
}
