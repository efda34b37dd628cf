#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "core/common/json_text.h"

using llmeval::append_json_number;
using llmeval::append_json_string;

TEST_CASE("append_json_string escapes what JSON requires and round-trips", "[common]") {
  const std::string inputs[] = {"plain", "quote \" and \\ backslash", "line\nbreak\ttab\r", std::string("nul\0x", 5),
                                "\x01\x1f", "héllo — ünïcode ✓ 𝄞", ""};
  for (const auto& input : inputs) {
    std::string out;
    append_json_string(out, input);
    INFO(out);
    CHECK(nlohmann::json::parse(out).get<std::string>() == input);
  }
}

TEST_CASE("append_json_string replaces invalid UTF-8 so the line stays valid JSON", "[common]") {
  const std::string inputs[] = {"cut \xE2\x82", "\xFF\xFE", "overlong \xC0\xAF", "surrogate \xED\xA0\x80 end"};
  for (const auto& input : inputs) {
    std::string out;
    append_json_string(out, input);
    INFO(input);
    auto parsed = nlohmann::json::parse(out).get<std::string>();
    CHECK(parsed.find("\xEF\xBF\xBD") != std::string::npos);
  }
}

TEST_CASE("append_json_number writes shortest round-trip numbers and null for non-finite", "[common]") {
  std::string out;
  append_json_number(out, 0.75);
  CHECK(out == "0.75");
  out.clear();
  append_json_number(out, std::numeric_limits<double>::quiet_NaN());
  CHECK(out == "null");
  out.clear();
  append_json_number(out, std::int64_t{-42});
  CHECK(out == "-42");
}
