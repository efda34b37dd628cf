#include "core/judge/checks.h"

#include <memory>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "core/dataset/criterion_regex.h"

namespace llmeval::judge {
namespace {

using dataset::CheckType;
using dataset::Criterion;
using nlohmann::json;

Criterion make_check(CheckType type, json value) {
  Criterion c;
  c.name = "check";
  c.llm = false;
  c.check = type;
  if (type == CheckType::kRegex && value.is_string()) {
    c.regex = dataset::compile_regex(value.get<std::string>()).value();
  }
  c.value = std::move(value);
  return c;
}

struct Case {
  const char* name;
  CheckType type;
  json value;
  std::string output;
  bool pass;
  const char* reason_part;  // the reason contains this
};

TEST_CASE("run_check passes and fails each deterministic check", "[judge]") {
  const std::vector<Case> cases = {
      {"contains", CheckType::kContains, "Paris", "The capital is Paris.", true,
       "output contains \"Paris\""},
      {"contains is case-sensitive", CheckType::kContains, "Paris", "the capital is paris", false,
       "output does not contain \"Paris\""},
      {"contains all of a list", CheckType::kContains, json::array({"a", "b"}), "a and b", true,
       "all 2"},
      {"contains a list, one missing", CheckType::kContains, json::array({"a", "zz"}), "a and b",
       false, "does not contain \"zz\""},
      {"not_contains", CheckType::kNotContains, "sorry", "Here you go.", true,
       "output does not contain \"sorry\""},
      {"not_contains fails", CheckType::kNotContains, "sorry", "I'm sorry, no.", false,
       "output contains \"sorry\""},
      {"equals after trimming", CheckType::kEquals, "42", "  42\n", true, "output equals \"42\""},
      {"equals exact", CheckType::kEquals, "42", "42", true, "equals"},
      {"equals is case-sensitive", CheckType::kEquals, "Yes", "yes", false,
       "output does not equal \"Yes\""},
      {"equals does not trim the expected text", CheckType::kEquals, " 42", "42", false,
       "does not equal"},
      {"equals inner difference", CheckType::kEquals, "4 2", "42", false, "does not equal"},
      {"regex matches", CheckType::kRegex, R"(\d{3}-\d{4})", "call 555-1234 now", true,
       "output matches /\\d{3}-\\d{4}/"},
      {"regex does not match", CheckType::kRegex, "^Paris$", "Paris, France", false,
       "output does not match /^Paris$/"},
      {"json", CheckType::kJson, nullptr, R"( {"a": 1} )", true, "valid JSON"},
      {"json scalar", CheckType::kJson, nullptr, "42", true, "valid JSON"},
      {"json invalid", CheckType::kJson, nullptr, R"({"a": 1,})", false, "not valid JSON"},
      {"json empty", CheckType::kJson, nullptr, "", false, "not valid JSON"},
      {"json fenced is not plain JSON", CheckType::kJson, nullptr, "```json\n{}\n```", false,
       "not valid JSON"},
      {"json with keys", CheckType::kJson, json::array({"name", "age"}),
       R"({"name": "A", "age": 3, "x": 0})", true, "all 2 keys"},
      {"json missing keys", CheckType::kJson, json::array({"name", "age", "city"}),
       R"({"name": "A"})", false, "missing keys: \"age\", \"city\""},
      {"json keys on an array", CheckType::kJson, json::array({"name"}), R"([1, 2])", false,
       "not an object"},
      {"max_chars within", CheckType::kMaxChars, 5, "hello", true, "5 chars <= max 5"},
      {"max_chars over", CheckType::kMaxChars, 4, "hello", false, "5 chars > max 4"},
      {"max_chars counts code points", CheckType::kMaxChars, 5, "h\xC3\xA9llo", true,
       "5 chars <= max 5"},
      {"max_chars counts emoji once", CheckType::kMaxChars, 1, "\xF0\x9F\x98\x80", true,
       "1 chars <= max 1"},
      {"min_chars within", CheckType::kMinChars, 5, "h\xC3\xA9llo", true, "5 chars >= min 5"},
      {"min_chars under", CheckType::kMinChars, 6, "h\xC3\xA9llo", false, "5 chars < min 6"},
      {"min_chars empty", CheckType::kMinChars, 1, "", false, "0 chars < min 1"},
      {"max_chars integral float", CheckType::kMaxChars, 3.0, "abc", true, "3 chars <= max 3"},
      {"max_chars bad value", CheckType::kMaxChars, "many", "abc", false, "integer"},
      {"contains bad value", CheckType::kContains, 7, "7", false, "string"},
  };
  for (const auto& c : cases) {
    INFO(c.name);
    const CheckOutcome outcome = run_check(make_check(c.type, c.value), c.output);
    CHECK(outcome.pass == c.pass);
    CHECK_THAT(outcome.reason, Catch::Contains(c.reason_part));
  }
}

TEST_CASE("run_check compiles a regex the criterion did not carry", "[judge]") {
  Criterion c = make_check(CheckType::kRegex, "b+");
  c.regex.reset();
  CHECK(run_check(c, "abbbc").pass);
  c.value = "(";
  const CheckOutcome bad = run_check(c, "abc");
  CHECK_FALSE(bad.pass);
  CHECK_THAT(bad.reason, Catch::Contains("regex /(/ is not a valid regex"));
}

TEST_CASE("run_check quotes long texts briefly", "[judge]") {
  const std::string needle(200, 'x');
  const CheckOutcome outcome = run_check(make_check(CheckType::kContains, needle), "abc");
  CHECK_FALSE(outcome.pass);
  CHECK(outcome.reason.size() < 100);
  CHECK_THAT(outcome.reason, Catch::Contains("...\""));
}

// Before RE2 these were failing verdicts nobody computed: "too complex to match against this
// output" and "output is 2000000 bytes, too long for the regex check".
TEST_CASE("run_check gives the true regex verdict for hostile patterns and huge outputs", "[judge][regex]") {
  const CheckOutcome quadratic = run_check(make_check(CheckType::kRegex, "(a|b)*c"), std::string(30000, 'a'));
  CHECK_FALSE(quadratic.pass);
  CHECK(quadratic.reason == "output does not match /(a|b)*c/");

  const CheckOutcome backtracking =
      run_check(make_check(CheckType::kRegex, "(a+)+$"), std::string(100000, 'a') + "b");
  CHECK_FALSE(backtracking.pass);
  CHECK(backtracking.reason == "output does not match /(a+)+$/");

  std::string huge(3'000'000, 'a');
  const CheckOutcome long_match = run_check(make_check(CheckType::kRegex, "a"), huge);
  CHECK(long_match.pass);
  CHECK(long_match.reason == "output matches /a/");
  huge.back() = '!';
  const CheckOutcome at_the_end = run_check(make_check(CheckType::kRegex, "a!$"), huge);
  CHECK(at_the_end.pass);
  const CheckOutcome absent = run_check(make_check(CheckType::kRegex, "b"), huge);
  CHECK_FALSE(absent.pass);
  CHECK(absent.reason == "output does not match /b/");
}

}  // namespace
}  // namespace llmeval::judge
