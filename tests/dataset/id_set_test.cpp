#include "core/dataset/id_set.h"

#include <catch2/catch.hpp>
#include <string>

using llmeval::dataset::IdSet;
using nlohmann::json;

TEST_CASE("IdSet remembers the first line of each id", "[dataset]") {
  IdSet ids;
  CHECK_FALSE(ids.insert("q1", 1));
  CHECK_FALSE(ids.insert("q2", 2));
  CHECK(ids.insert("q1", 3) == 1);
  CHECK(ids.insert("q1", 4) == 1);  // still the first line, not the latest
  CHECK(ids.insert("q2", 5) == 2);
  CHECK(ids.size() == 2);
}

TEST_CASE("IdSet compares ids by JSON type and value", "[dataset]") {
  IdSet ids;
  CHECK_FALSE(ids.insert(5, 1));
  SECTION("the string \"5\" is another id") { CHECK_FALSE(ids.insert("5", 2)); }
  SECTION("5.0 and an unsigned 5 are the same number") {
    CHECK(ids.insert(5.0, 2) == 1);
    CHECK(ids.insert(json(5u), 3) == 1);
  }
  SECTION("fractions and huge numbers") {
    CHECK_FALSE(ids.insert(5.5, 2));
    CHECK(ids.insert(5.5, 3) == 2);
    CHECK_FALSE(ids.insert(1e300, 4));
    CHECK(ids.insert(1e300, 5) == 4);
    CHECK_FALSE(ids.insert(-5, 6));
  }
  SECTION("the empty string is an id like any other") {
    CHECK_FALSE(ids.insert("", 2));
    CHECK(ids.insert("", 3) == 2);
  }
}

TEST_CASE("IdSet keeps every id through growth", "[dataset]") {
  IdSet ids;
  constexpr int kIds = 200000;
  for (int i = 1; i <= kIds; ++i) REQUIRE_FALSE(ids.insert("row-" + std::to_string(i), i));
  CHECK(ids.size() == kIds);
  for (int i = 1; i <= kIds; i += 997) CHECK(ids.insert("row-" + std::to_string(i), kIds + i) == i);
  CHECK(ids.insert(json(42), 1) == std::nullopt);
}

TEST_CASE("IdSet reports a line beyond 32 bits as 0, an earlier line", "[dataset]") {
  IdSet ids;
  CHECK_FALSE(ids.insert("big", std::int64_t{1} << 33));
  CHECK(ids.insert("big", (std::int64_t{1} << 33) + 1) == 0);
}
