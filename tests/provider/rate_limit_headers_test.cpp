#include <catch2/catch.hpp>

#include "core/provider/rate_limit_headers.h"

using namespace llmeval::provider;
using namespace std::chrono_literals;
using std::chrono::milliseconds;

TEST_CASE("parse_go_duration reads OpenAI's reset durations", "[provider]") {
  CHECK(parse_go_duration("1s") == milliseconds(1000));
  CHECK(parse_go_duration("6m0s") == milliseconds(360000));
  CHECK(parse_go_duration("20ms") == milliseconds(20));
  CHECK(parse_go_duration("1h2m3.5s") == milliseconds(3723500));
  CHECK(parse_go_duration("0.5s") == milliseconds(500));
  CHECK_FALSE(parse_go_duration(""));
  CHECK_FALSE(parse_go_duration("soon"));
  CHECK_FALSE(parse_go_duration("5x"));
}

TEST_CASE("parse_rfc3339 reads Anthropic's reset times", "[provider]") {
  auto base = parse_rfc3339("2024-01-01T00:00:00Z");
  REQUIRE(base);
  CHECK(*parse_rfc3339("2024-01-01T00:00:30Z") - *base == 30s);
  CHECK(*parse_rfc3339("2024-01-01T00:00:00.250Z") - *base == 250ms);
  CHECK(*parse_rfc3339("2024-01-01T01:00:00+01:00") - *base == 0s);
  CHECK_FALSE(parse_rfc3339("yesterday"));
  CHECK_FALSE(parse_rfc3339("2024-01-01T00:00:00"));
}

TEST_CASE("rate_limit_exhausted_for holds off only when a budget is used up", "[provider]") {
  auto now = *parse_rfc3339("2024-01-01T00:00:00Z");
  HttpResponse r;
  r.status = 200;
  SECTION("remaining budget: no hold") {
    r.headers = {{"x-ratelimit-remaining-requests", "12"}, {"x-ratelimit-reset-requests", "2s"}};
    CHECK_FALSE(rate_limit_exhausted_for(r, now));
  }
  SECTION("OpenAI: the longest of the exhausted budgets") {
    r.headers = {{"x-ratelimit-remaining-requests", "0"}, {"x-ratelimit-reset-requests", "2s"},
                 {"x-ratelimit-remaining-tokens", "0"}, {"x-ratelimit-reset-tokens", "6m0s"}};
    CHECK(rate_limit_exhausted_for(r, now) == milliseconds(360000));
  }
  SECTION("Anthropic: reset time measured against now") {
    r.headers = {{"anthropic-ratelimit-requests-remaining", "0"},
                 {"anthropic-ratelimit-requests-reset", "2024-01-01T00:00:07Z"}};
    CHECK(rate_limit_exhausted_for(r, now) == milliseconds(7000));
  }
  SECTION("used up without a readable reset: a short pause") {
    r.headers = {{"x-ratelimit-remaining-tokens", "0"}, {"x-ratelimit-reset-tokens", "whenever"}};
    CHECK(rate_limit_exhausted_for(r, now) == milliseconds(1000));
  }
}
