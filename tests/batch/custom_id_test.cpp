// custom_ids name a judge call exactly, meet Anthropic's pattern ^[a-zA-Z0-9_-]{1,64}$ at their
// longest, and read back only from the one canonical text.
#include "core/batch/custom_id.h"

#include <catch2/catch.hpp>

#include <limits>
#include <regex>
#include <string>

using llmeval::batch::CallKey;
using llmeval::batch::parse_custom_id;
using llmeval::batch::to_custom_id;

TEST_CASE("custom_id: every part of the call round-trips", "[batch]") {
  const CallKey key{17, 2, 3, 1, 1};
  CHECK(to_custom_id(key) == "l17c2s3j1o1");
  REQUIRE(parse_custom_id("l17c2s3j1o1"));
  CHECK(*parse_custom_id("l17c2s3j1o1") == key);

  const auto max32 = std::numeric_limits<std::uint32_t>::max();
  const CallKey longest{std::numeric_limits<std::int64_t>::max(), max32, max32, max32, max32};
  const std::string id = to_custom_id(longest);
  CHECK(id.size() == 64);
  // Anthropic's rule for requests[].custom_id (API reference, Create a Message Batch).
  CHECK(std::regex_match(id, std::regex("^[a-zA-Z0-9_-]{1,64}$")));
  CHECK(*parse_custom_id(id) == longest);
}

TEST_CASE("custom_id: another tool's id, a cut id or a non-canonical one is not ours", "[batch]") {
  for (const char* text : {"", "request-1", "l17c2s3j1", "l17c2s3j1o1x", "l0c0s0j0o0", "l-1c0s0j0o0", "l01c0s0j0o0",
                           "l17c2s3j1o", "L17c2s3j1o1", "l17c4294967296s0j0o0", "l99999999999999999999c0s0j0o0"}) {
    INFO(text);
    CHECK_FALSE(parse_custom_id(text));
  }
}
