#include "core/common/json_parse.h"

#include <catch2/catch.hpp>

using llmeval::parse_json;
using nlohmann::json;

namespace {

// parse_json must give exactly what nlohmann gives: the same value, the same number types.
void check_same(const std::string& text) {
  INFO(text);
  json expected = json::parse(text);
  json got = parse_json(text);
  CHECK(got == expected);
  CHECK(got.dump() == expected.dump());
  CHECK(got.type() == expected.type());
}

}  // namespace

TEST_CASE("parse_json gives nlohmann's values and number types", "[common]") {
  check_same(R"({"id": 7, "neg": -3, "big": 18446744073709551615, "f": 1.5, "e": 1e2, "z": 0})");
  check_same(R"({"s": "caf\u00e9 \"quoted\" \\ \n tab\t", "u": "\ud83d\ude00", "raw": "日本語"})");
  check_same(R"([true, false, null, [], {}, [[1, [2, [3]]]], {"a": {"b": {"c": []}}}])");
  check_same(R"({"dup": 1, "dup": 2})");  // the last one wins, as in nlohmann
  check_same(R"("just a string")");
  check_same("  42  ");
  CHECK(parse_json("5").is_number_unsigned());
  CHECK(parse_json("-5").is_number_integer());
}

TEST_CASE("what simdjson refuses goes to nlohmann, errors included", "[common]") {
  // An integer beyond 64 bits: nlohmann reads it as a double.
  check_same(R"({"huge": 123456789012345678901234567890})");
  CHECK_THROWS_AS(parse_json(R"({"a": )"), json::parse_error);
  CHECK_THROWS_AS(parse_json("{\"bad\": \"\xff\"}"), json::parse_error);
  CHECK_THROWS_AS(parse_json(""), json::parse_error);
  CHECK_THROWS_AS(parse_json("1e999"), json::exception);
}

TEST_CASE("a large string value parses whole", "[common]") {
  std::string output(1 << 20, 'x');
  for (std::size_t i = 0; i < output.size(); i += 997) output[i] = '"';  // escaped below
  json row = {{"output", output}, {"criteria", {"correct"}}};
  CHECK(parse_json(row.dump()) == row);
}
