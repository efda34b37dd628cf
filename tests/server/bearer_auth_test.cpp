#include "core/server/bearer_auth.h"

#include <fstream>

#include <catch2/catch.hpp>

#include "core/common/error.h"
#include "tests/support/files.h"

using llmeval::server::BearerAuth;
using llmeval::server::parse_token_list;
using llmeval::server::read_tokens_file;

TEST_CASE("bearer auth accepts exactly the configured tokens", "[server]") {
  BearerAuth auth({"alpha-token", "beta"});
  CHECK(auth.enabled());
  CHECK(auth.allows("Bearer alpha-token"));
  CHECK(auth.allows("bearer beta"));  // the scheme is case-insensitive
  CHECK_FALSE(auth.allows(""));
  CHECK_FALSE(auth.allows("Bearer "));
  CHECK_FALSE(auth.allows("Bearer alpha"));         // a prefix of a token
  CHECK_FALSE(auth.allows("Bearer alpha-token2"));  // a token plus more
  CHECK_FALSE(auth.allows("Bearer BETA"));          // tokens are case-sensitive
  CHECK_FALSE(auth.allows("Basic YWxwaGEtdG9rZW4="));
  CHECK_FALSE(auth.allows("alpha-token"));
}

TEST_CASE("without tokens bearer auth allows everything", "[server]") {
  BearerAuth auth({"", ""});
  CHECK_FALSE(auth.enabled());
  CHECK(auth.allows(""));
}

TEST_CASE("token lists and files", "[server]") {
  CHECK(parse_token_list(" a, b ,,c ") == std::vector<std::string>{"a", "b", "c"});
  CHECK(parse_token_list("").empty());
  llmeval::testing::TempDir dir;
  std::string path = dir.file("tokens");
  std::ofstream(path) << "# service tokens\n\n  one  \r\ntwo\n";
  CHECK(read_tokens_file(path).value() == std::vector<std::string>{"one", "two"});
  std::ofstream(path) << "# nothing\n";
  CHECK_THAT(read_tokens_file(path).error().message, Catch::Contains("holds no token"));
  CHECK_THAT(read_tokens_file(dir.file("missing")).error().message, Catch::Contains("missing"));
}
