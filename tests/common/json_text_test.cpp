#include "core/common/json_text.h"

#include <catch2/catch.hpp>

#include <cstdint>
#include <limits>
#include <random>
#include <string>

#include <nlohmann/json.hpp>

using llmeval::append_json_number;
using llmeval::append_json_string;

namespace {

std::string as_json(std::string_view text) {
  std::string out;
  append_json_string(out, text);
  return out;
}

std::string number(double value) {
  std::string out;
  append_json_number(out, value);
  return out;
}

}  // namespace

TEST_CASE("append_json_string escapes what JSON requires and copies the rest", "[common]") {
  CHECK(as_json("") == R"("")");
  CHECK(as_json("plain text") == R"("plain text")");
  CHECK(as_json("say \"hi\" \\ now") == R"("say \"hi\" \\ now")");
  CHECK(as_json("a\nb\tc\rd\be\ff") == R"("a\nb\tc\rd\be\ff")");
  CHECK(as_json(std::string("nul\0x\x1f", 6)) == R"("nul\u0000x\u001f")");
  CHECK(as_json("del \x7f stays") == "\"del \x7f stays\"");
  CHECK(as_json("</script> / slash") == R"("</script> / slash")");
  CHECK(as_json("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80") == "\"caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80\"");
}

TEST_CASE("append_json_string replaces invalid UTF-8 with U+FFFD", "[common]") {
  const std::string fffd = "\xEF\xBF\xBD";
  CHECK(as_json("a\xC3(b") == "\"a" + fffd + "(b\"");           // truncated 2-byte sequence
  CHECK(as_json("\xFF") == "\"" + fffd + "\"");                   // never valid
  CHECK(as_json("\xC0\xAF") == "\"" + fffd + fffd + "\"");        // overlong '/'
  CHECK(as_json("\xED\xA0\x80") == "\"" + fffd + fffd + fffd + "\"");  // UTF-16 surrogate
  CHECK(as_json("\xF4\x90\x80\x80") == "\"" + fffd + fffd + fffd + fffd + "\"");  // above U+10FFFF
  CHECK(as_json("end\xE2\x82") == "\"end" + fffd + fffd + "\"");  // cut at the end
}

TEST_CASE("append_json_string round-trips through a JSON parser", "[common]") {
  std::mt19937 rng(42);
  std::uniform_int_distribution<int> byte(0, 255);
  for (int i = 0; i < 2000; ++i) {
    std::string text(static_cast<std::size_t>(i % 64), '\0');
    for (auto& c : text) c = static_cast<char>(byte(rng));
    std::string json = as_json(text);
    auto parsed = nlohmann::json::parse(json, nullptr, false);
    REQUIRE_FALSE(parsed.is_discarded());
    REQUIRE(parsed.is_string());
    // Valid UTF-8 comes back byte for byte; nlohmann's strict dump tells us which inputs are.
    bool valid = true;
    try {
      (void)nlohmann::json(text).dump();
    } catch (const nlohmann::json::type_error&) {
      valid = false;
    }
    if (valid) {
      REQUIRE(parsed.get<std::string>() == text);
      REQUIRE(json == nlohmann::json(text).dump());  // byte for byte what nlohmann writes
    }
  }
}

TEST_CASE("append_json_string handles special bytes at every offset of a long ASCII run", "[common]") {
  // The plain-ASCII fast path moves 8 bytes at a time; a special byte must be caught wherever
  // it falls in a block.
  for (const char* special : {"\"", "\\", "\n", "\x01", "\x1f", "\xC3\xA9", "\xE2\x82\xAC", "\xF0\x9F\x98\x80"}) {
    for (std::size_t at = 0; at <= 40; ++at) {
      std::string text(40, 'a');
      text.insert(at, special);
      REQUIRE(as_json(text) == nlohmann::json(text).dump());
    }
  }
  for (std::size_t at = 0; at <= 40; ++at) {
    std::string text(40, 'b');
    text.insert(at, "\xFF");
    auto parsed = nlohmann::json::parse(as_json(text));
    REQUIRE(parsed.get<std::string>() == std::string(at, 'b') + "\xEF\xBF\xBD" + std::string(40 - at, 'b'));
  }
}

TEST_CASE("append_json_number writes the shortest round-trip form", "[common]") {
  CHECK(number(0.0) == "0");
  CHECK(number(0.25) == "0.25");
  CHECK(number(1.0) == "1");
  CHECK(number(0.7) == "0.7");
  CHECK(number(std::numeric_limits<double>::quiet_NaN()) == "null");
  CHECK(number(std::numeric_limits<double>::infinity()) == "null");
  std::string out;
  append_json_number(out, std::int64_t{-256});
  CHECK(out == "-256");
}
