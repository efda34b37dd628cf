#include <catch2/catch.hpp>

#include "core/cache/cache_key.h"

using llmeval::cache::cache_key;
using llmeval::cache::sha256_hex;

TEST_CASE("sha256_hex matches the FIPS 180-2 test vectors", "[cache]") {
  CHECK(sha256_hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(sha256_hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST_CASE("a cache key changes with the request identity and the sample, and only with them", "[cache]") {
  const std::string identity = "https://api.openai.com/v1/chat/completions\ngpt-4o-mini\n{\"messages\":[]}";
  CHECK(cache_key(identity, 0) == cache_key(identity, 0));
  CHECK(cache_key(identity, 0).size() == 64);
  CHECK(cache_key(identity, 0) != cache_key(identity, 1));
  CHECK(cache_key(identity, 0) != cache_key(identity + " ", 0));
  CHECK(cache_key(identity, 0) != cache_key("https://other.example/v1/chat/completions\ngpt-4o-mini\n{\"messages\":[]}", 0));
}
