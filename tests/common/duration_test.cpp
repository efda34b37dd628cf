#include <catch2/catch.hpp>

#include "core/common/duration.h"

using llmeval::parse_duration;
using std::chrono::milliseconds;

TEST_CASE("parse_duration reads the units people write", "[common]") {
  CHECK(parse_duration("5s") == milliseconds(5000));
  CHECK(parse_duration("800ms") == milliseconds(800));
  CHECK(parse_duration("1.5s") == milliseconds(1500));
  CHECK(parse_duration("2m") == milliseconds(120000));
  CHECK(parse_duration("12h") == std::chrono::hours(12));
  CHECK(parse_duration("30d") == std::chrono::hours(24 * 30));
  CHECK(parse_duration("250") == milliseconds(250));
  CHECK_FALSE(parse_duration(""));
  CHECK_FALSE(parse_duration("fast"));
  CHECK_FALSE(parse_duration("5 s"));
  CHECK_FALSE(parse_duration("-5s"));
  CHECK_FALSE(parse_duration("5y"));
}
