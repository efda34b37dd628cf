#include <catch2/catch.hpp>

#include "core/common/ascii.h"

using llmeval::ascii_lower;
using llmeval::iequals;
using llmeval::istarts_with;

TEST_CASE("ASCII case folding leaves other bytes alone", "[ascii]") {
  CHECK(ascii_lower("Content-Type: GPT-5") == "content-type: gpt-5");
  CHECK(ascii_lower("\xC4\xB0Z") == "\xC4\xB0z");  // "İZ": the UTF-8 bytes of İ are kept
  CHECK(ascii_lower('@') == '@');
  CHECK(ascii_lower('[') == '[');
  CHECK(iequals("Bearer", "bEARER"));
  CHECK_FALSE(iequals("Bearer", "Bearer "));
  CHECK_FALSE(iequals("a@", "a`"));  // '@' and '`' are 32 apart but not letters
  CHECK(istarts_with("HTTPS://api.example.com", "https://"));
  CHECK_FALSE(istarts_with("http", "https://"));
  CHECK(istarts_with("anything", ""));
}
