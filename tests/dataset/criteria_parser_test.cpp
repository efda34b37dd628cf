#include "core/dataset/criteria_parser.h"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "core/dataset/criterion_regex.h"

using llmeval::dataset::CheckType;
using llmeval::dataset::CriteriaError;
using llmeval::dataset::Criterion;
using llmeval::dataset::parse_criteria;
using llmeval::dataset::regex_search;
using llmeval::dataset::Scale;
using nlohmann::json;

namespace {

std::vector<Criterion> parse_ok(const std::string& text, Scale scale = Scale::k1to5) {
  auto result = parse_criteria(json::parse(text), scale);
  if (auto* error = std::get_if<CriteriaError>(&result)) FAIL(text << " -> " << error->message);
  return std::get<std::vector<Criterion>>(std::move(result));
}

CriteriaError parse_error(const std::string& text) {
  auto result = parse_criteria(json::parse(text), Scale::k1to5);
  if (!std::holds_alternative<CriteriaError>(result)) FAIL(text << " parsed, but should not");
  return std::get<CriteriaError>(std::move(result));
}

}  // namespace

TEST_CASE("Scale and check type names, ranges and default thresholds", "[dataset]") {
  using llmeval::dataset::default_threshold;
  using llmeval::dataset::range_of;
  using llmeval::dataset::to_string;
  CHECK(std::string(to_string(Scale::k1to5)) == "1-5");
  CHECK(std::string(to_string(Scale::k1to10)) == "1-10");
  CHECK(std::string(to_string(Scale::kBinary)) == "binary");
  CHECK((range_of(Scale::k1to5).min == 1 && range_of(Scale::k1to5).max == 5));
  CHECK((range_of(Scale::k1to10).min == 1 && range_of(Scale::k1to10).max == 10));
  CHECK((range_of(Scale::kBinary).min == 0 && range_of(Scale::kBinary).max == 1));
  CHECK(default_threshold(Scale::k1to5) == 4);
  CHECK(default_threshold(Scale::k1to10) == 7);
  CHECK(default_threshold(Scale::kBinary) == 1);
  const std::pair<CheckType, const char*> names[] = {
      {CheckType::kContains, "contains"}, {CheckType::kNotContains, "not_contains"},
      {CheckType::kEquals, "equals"},     {CheckType::kRegex, "regex"},
      {CheckType::kJson, "json"},         {CheckType::kMaxChars, "max_chars"},
      {CheckType::kMinChars, "min_chars"}};
  for (const auto& [type, name] : names) CHECK(std::string(to_string(type)) == name);

  Scale scale = Scale::k1to5;
  CHECK(llmeval::dataset::parse_scale("1-10", scale));
  CHECK(scale == Scale::k1to10);
  CHECK(llmeval::dataset::parse_scale("binary", scale));
  CHECK(scale == Scale::kBinary);
  CHECK_FALSE(llmeval::dataset::parse_scale("1-7", scale));
  CHECK(scale == Scale::kBinary);
}

TEST_CASE("A criteria string is one LLM criterion named default on the default scale", "[dataset]") {
  auto criteria = parse_ok(R"("The answer is correct.")", Scale::k1to10);
  REQUIRE(criteria.size() == 1);
  CHECK(criteria[0].name == "default");
  CHECK(criteria[0].llm);
  CHECK(criteria[0].rubric == "The answer is correct.");
  CHECK(criteria[0].scale == Scale::k1to10);
  CHECK(criteria[0].threshold == 7);
  CHECK(criteria[0].weight == 1.0);
}

TEST_CASE("A criteria object maps names to rubrics", "[dataset]") {
  auto criteria = parse_ok(R"({"tone": "Polite.", "accuracy": "Correct."})");
  REQUIRE(criteria.size() == 2);
  // nlohmann::json objects iterate in key order.
  CHECK(criteria[0].name == "accuracy");
  CHECK(criteria[0].rubric == "Correct.");
  CHECK(criteria[1].name == "tone");
  CHECK(criteria[1].rubric == "Polite.");
  CHECK(criteria[1].llm);
  CHECK(criteria[1].threshold == 4);
}

TEST_CASE("A criteria object with a rubric, type or name is a single criterion", "[dataset]") {
  SECTION("name and rubric") {
    auto criteria = parse_ok(R"({"name": "tone", "rubric": "Polite.", "scale": "binary"})");
    REQUIRE(criteria.size() == 1);
    CHECK(criteria[0].name == "tone");
    CHECK(criteria[0].scale == Scale::kBinary);
    CHECK(criteria[0].threshold == 1);
  }
  SECTION("rubric without a name is called default") {
    auto criteria = parse_ok(R"({"rubric": "Polite."})");
    REQUIRE(criteria.size() == 1);
    CHECK(criteria[0].name == "default");
  }
  SECTION("a check without a name") {
    auto criteria = parse_ok(R"({"type": "contains", "value": "Paris"})");
    REQUIRE(criteria.size() == 1);
    CHECK(criteria[0].name == "default");
    CHECK_FALSE(criteria[0].llm);
    CHECK(criteria[0].check == CheckType::kContains);
  }
  SECTION("a name alone still means a criterion object, which then lacks a rubric") {
    auto error = parse_error(R"({"name": "tone"})");
    CHECK(error.message.find("criterion \"tone\": missing \"rubric\"") != std::string::npos);
  }
}

TEST_CASE("A criteria array of strings names them c1, c2, ...", "[dataset]") {
  auto criteria = parse_ok(R"(["Correct.", "Concise."])");
  REQUIRE(criteria.size() == 2);
  CHECK(criteria[0].name == "c1");
  CHECK(criteria[0].rubric == "Correct.");
  CHECK(criteria[1].name == "c2");
  CHECK(criteria[1].rubric == "Concise.");
}

TEST_CASE("A criteria array of objects sets scale, threshold and weight", "[dataset]") {
  auto criteria = parse_ok(R"([
    {"name": "a", "rubric": "r", "scale": "1-5", "threshold": 3, "weight": 2},
    {"name": "b", "rubric": "r", "scale": "1-10", "threshold": 8.5},
    {"name": "c", "rubric": "r", "scale": "binary", "threshold": 0.5, "weight": 0.25},
    {"rubric": "unnamed"},
    "a plain string"])");
  REQUIRE(criteria.size() == 5);
  CHECK((criteria[0].scale == Scale::k1to5 && criteria[0].threshold == 3 && criteria[0].weight == 2));
  CHECK((criteria[1].scale == Scale::k1to10 && criteria[1].threshold == 8.5 && criteria[1].weight == 1));
  CHECK((criteria[2].scale == Scale::kBinary && criteria[2].threshold == 0.5 && criteria[2].weight == 0.25));
  CHECK(criteria[3].name == "c4");
  CHECK(criteria[3].threshold == 4);
  CHECK(criteria[4].name == "c5");
  SECTION("threshold may sit on either end of the scale") {
    CHECK(parse_ok(R"([{"rubric": "r", "scale": "1-10", "threshold": 10}])")[0].threshold == 10);
    CHECK(parse_ok(R"([{"rubric": "r", "threshold": 1}])")[0].threshold == 1);
    CHECK(parse_ok(R"([{"rubric": "r", "scale": "binary", "threshold": 0}])")[0].threshold == 0);
  }
}

TEST_CASE("Deterministic criteria keep their type and value", "[dataset]") {
  struct Case {
    const char* json;
    CheckType type;
  };
  const Case cases[] = {
      {R"({"type": "contains", "value": "Paris"})", CheckType::kContains},
      {R"({"type": "not_contains", "value": "As an AI"})", CheckType::kNotContains},
      {R"({"type": "equals", "value": "42"})", CheckType::kEquals},
      {R"({"type": "equals", "value": ""})", CheckType::kEquals},
      {R"({"type": "regex", "value": "^\\d{4}-\\d{2}-\\d{2}$"})", CheckType::kRegex},
      {R"({"type": "json"})", CheckType::kJson},
      {R"({"type": "json", "value": ["answer", "sources"]})", CheckType::kJson},
      {R"({"type": "json", "value": []})", CheckType::kJson},
      {R"({"type": "max_chars", "value": 400})", CheckType::kMaxChars},
      {R"({"type": "min_chars", "value": 0})", CheckType::kMinChars},
      {R"({"type": "contains", "value": "x", "weight": 3})", CheckType::kContains},
  };
  for (const Case& c : cases) {
    INFO(c.json);
    auto criteria = parse_ok(std::string("[") + c.json + "]");
    REQUIRE(criteria.size() == 1);
    CHECK(criteria[0].name == "c1");
    CHECK_FALSE(criteria[0].llm);
    CHECK(criteria[0].check == c.type);
    CHECK(criteria[0].value == json::parse(c.json).value("value", json()));
    CHECK((criteria[0].regex != nullptr) == (c.type == CheckType::kRegex));
  }
  CHECK(parse_ok(R"([{"type": "contains", "value": "x", "weight": 3}])")[0].weight == 3);
}

TEST_CASE("A regex criterion is compiled once and matches in linear time", "[dataset]") {
  auto criteria = parse_ok(R"([{"name": "date", "type": "regex", "value": "(a|c)*b"}])");
  REQUIRE(criteria[0].regex);
  // A backtracking matcher recurses per character and would overflow the stack here.
  const std::string long_output = std::string(200000, 'a') + "b";
  CHECK(regex_search(*criteria[0].regex, long_output));
  CHECK_FALSE(regex_search(*criteria[0].regex, std::string(1000, 'a')));
}

TEST_CASE("Bad criteria are rejected with a message naming the criterion and the fix", "[dataset]") {
  struct Case {
    const char* json;
    const char* kind;
    const char* message_part;
  };
  const Case cases[] = {
      {R"("")", "invalid_criteria", "\"criteria\" is empty"},
      {R"("   ")", "invalid_criteria", "\"criteria\" is empty"},
      {R"([])", "invalid_criteria", "\"criteria\" is empty"},
      {R"({})", "invalid_criteria", "\"criteria\" is empty"},
      {R"(42)", "invalid_criteria", "\"criteria\" must be a rubric string, an object"},
      {R"(true)", "invalid_criteria", "(got true)"},
      {R"({"tone": 3})", "invalid_criteria", "criterion \"tone\": in the {\"name\": \"rubric\"} form"},
      {R"({"tone": ""})", "invalid_criteria", "non-empty rubric string (got \"\")"},
      {R"({"": "rubric"})", "invalid_criteria", "name must not be empty"},
      {R"(["ok", ""])", "invalid_criteria", "criterion \"c2\": the rubric is empty"},
      {R"([1])", "invalid_criteria", "criterion \"c1\": each element"},
      {R"([{"name": "tone", "rubric": "r", "scale": "1-7"}])", "invalid_criteria",
       "criterion \"tone\": \"scale\" must be \"1-5\", \"1-10\" or \"binary\" (got \"1-7\")"},
      {R"([{"name": "tone", "rubric": "r", "scale": 5}])", "invalid_criteria", "(got 5)"},
      {R"([{"name": "tone", "rubric": "r", "threshold": 7}])", "invalid_criteria",
       "criterion \"tone\": \"threshold\" must be a number from 1 to 5 on the \"1-5\" scale (got 7)"},
      {R"([{"name": "t", "rubric": "r", "scale": "binary", "threshold": 2}])", "invalid_criteria",
       "from 0 to 1 on the \"binary\" scale (got 2)"},
      {R"([{"name": "t", "rubric": "r", "threshold": "4"}])", "invalid_criteria", "(got \"4\")"},
      {R"([{"name": "t", "rubric": "r", "weight": 0}])", "invalid_criteria",
       "criterion \"t\": \"weight\" must be a number greater than 0 (got 0)"},
      {R"([{"name": "t", "rubric": "r", "weight": -1}])", "invalid_criteria", "(got -1)"},
      {R"([{"name": "t", "rubric": "r", "weight": "2"}])", "invalid_criteria", "(got \"2\")"},
      {R"([{"name": "t"}])", "invalid_criteria", "criterion \"t\": missing \"rubric\""},
      {R"([{"name": "t", "rubric": 3}])", "invalid_criteria",
       "\"rubric\" must be a non-empty string (got 3)"},
      {R"([{"name": 3, "rubric": "r"}])", "invalid_criteria",
       "criterion \"c1\": \"name\" must be a non-empty string (got 3)"},
      {R"([{"name": "", "rubric": "r"}])", "invalid_criteria", "\"name\" must be a non-empty string"},
      {R"([{"name": "t", "rubric": "r", "treshold": 3}])", "invalid_criteria", "unknown key \"treshold\""},
      {R"([{"name": "t", "rubric": "r", "value": "x"}])", "invalid_criteria",
       "\"value\" only applies to a deterministic check"},
      {R"(["a", "b", {"name": "c1", "rubric": "r"}])", "invalid_criteria",
       "criterion \"c1\": the name appears more than once"},
      {R"([{"name": "x", "rubric": "r"}, {"name": "x", "type": "json"}])", "invalid_criteria",
       "criterion \"x\": the name appears more than once"},
      {R"([{"name": "t", "type": "startswith", "value": "x"}])", "invalid_criteria",
       "criterion \"t\": unknown \"type\" \"startswith\"; use \"contains\", \"not_contains\", \"equals\", "
       "\"regex\", \"json\", \"max_chars\" or \"min_chars\""},
      {R"([{"name": "t", "type": 1}])", "invalid_criteria", "unknown \"type\" 1"},
      {R"([{"name": "t", "type": "contains"}])", "invalid_criteria",
       "criterion \"t\": a \"contains\" check needs a non-empty string \"value\" (got none)"},
      {R"([{"name": "t", "type": "contains", "value": ""}])", "invalid_criteria", "non-empty string"},
      {R"([{"name": "t", "type": "not_contains", "value": 3}])", "invalid_criteria",
       "a \"not_contains\" check needs a non-empty string \"value\" (got 3)"},
      {R"([{"name": "t", "type": "equals"}])", "invalid_criteria", "a \"equals\" check needs a string"},
      {R"([{"name": "t", "type": "regex", "value": ["a"]}])", "invalid_criteria", "(got array)"},
      {R"([{"name": "t", "type": "max_chars", "value": -1}])", "invalid_criteria",
       "a \"max_chars\" check needs a whole number of characters >= 0 as \"value\" (got -1)"},
      {R"([{"name": "t", "type": "min_chars", "value": 2.5}])", "invalid_criteria", "(got 2.5)"},
      {R"([{"name": "t", "type": "min_chars", "value": "10"}])", "invalid_criteria", "(got \"10\")"},
      {R"([{"name": "t", "type": "max_chars"}])", "invalid_criteria", "(got none)"},
      {R"([{"name": "t", "type": "json", "value": "answer"}])", "invalid_criteria",
       "must list required keys, e.g. [\"answer\", \"sources\"] (got \"answer\")"},
      {R"([{"name": "t", "type": "json", "value": ["a", 1]}])", "invalid_criteria", "(got array)"},
      {R"([{"name": "t", "type": "contains", "value": "x", "scale": "1-5"}])", "invalid_criteria",
       "\"scale\" does not apply to a \"contains\" check"},
      {R"([{"name": "t", "type": "contains", "value": "x", "rubric": "r"}])", "invalid_criteria",
       "\"rubric\" does not apply"},
      {R"([{"name": "t", "type": "contains", "value": "x", "weight": 0}])", "invalid_criteria",
       "\"weight\" must be a number greater than 0"},
      {R"([{"name": "date", "type": "regex", "value": "([0-9]"}])", "invalid_regex",
       "criterion \"date\": \"value\" \"([0-9]\" is not a valid regex"},
      {R"([{"name": "t", "type": "regex", "value": "(a)\\1"}])", "invalid_regex",
       "criterion \"t\": \"value\" \"(a)\\\\1\" is not a valid regex (RE2 syntax, which has no backreferences such as "
       "\\1 and no lookaround such as (?=...) or (?<=...)): invalid escape sequence: \\1"},
      {R"x([{"name": "t", "type": "regex", "value": "^(?=a)"}])x", "invalid_regex", "invalid perl operator: (?="},
      // RE2 would read this count as the literal text "{4294967297}": refused instead.
      {R"([{"name": "t", "type": "regex", "value": "^a{4294967297}$"}])", "invalid_regex",
       "criterion \"t\": \"value\" \"^a{4294967297}$\" has the repeat \"{4294967297}\""},
      {R"([{"name": "t", "type": "regex", "value": ".{0,1000}y.{0,1000}z"}])", "invalid_regex",
       "is too complex for a regex check"},
      {R"([{"name": "t", "type": "regex", "value": ""}])", "invalid_criteria", "non-empty string"},
  };
  for (const Case& c : cases) {
    INFO(c.json);
    CriteriaError error = parse_error(c.json);
    CHECK(error.kind == c.kind);
    CHECK_THAT(error.message, Catch::Contains(c.message_part));
  }
}

TEST_CASE("A huge or deeply nested regex is refused instead of crashing the compiler", "[dataset]") {
  const std::string deep = std::string(100000, '(') + "a" + std::string(100000, ')');
  json criteria = json::array({{{"name", "deep"}, {"type", "regex"}, {"value", deep}}});
  auto result = parse_criteria(criteria, Scale::k1to5);
  REQUIRE(std::holds_alternative<CriteriaError>(result));
  CHECK_THAT(std::get<CriteriaError>(result).message, Catch::Contains("keep it under"));
}

TEST_CASE("Criteria error messages stay short and valid UTF-8", "[dataset]") {
  const std::string long_scale(10000, 'x');
  json criteria = json::array({{{"name", "t"}, {"rubric", "r"}, {"scale", long_scale}}});
  auto result = parse_criteria(criteria, Scale::k1to5);
  REQUIRE(std::holds_alternative<CriteriaError>(result));
  const std::string& message = std::get<CriteriaError>(result).message;
  CHECK(message.size() < 300);
  CHECK_THAT(message, Catch::Contains("...\")"));
  CHECK_NOTHROW(json(message).dump());
}

TEST_CASE("Rows repeating a regex share one compiled pattern", "[dataset]") {
  const std::string text = R"([{"type": "regex", "value": "^[A-Z]{3}-\\d+$"}])";
  auto first = parse_ok(text);
  auto second = parse_ok(text);
  REQUIRE(first[0].regex);
  CHECK(first[0].regex == second[0].regex);
  CHECK(regex_search(*second[0].regex, "ABC-123"));
  CHECK(parse_ok(R"([{"type": "regex", "value": "x"}])")[0].regex != first[0].regex);
}
