// BearerAuth: the API tokens of `llmeval serve` (`Authorization: Bearer TOKEN`). Tokens come
// from LLMEVAL_API_TOKENS (comma-separated) or --tokens-file (one per line); without any,
// every request is allowed (the CLI allows that only on loopback, or when told to).
//
// The check compares the presented token with every configured one, in full, without
// stopping at the first difference: its time depends on the presented token's length only, so
// it reveals nothing about the tokens it compares against. Immutable after construction:
// safe to share between threads.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/common/error.h"

namespace llmeval::server {

class BearerAuth {
 public:
  // Empty tokens are ignored.
  explicit BearerAuth(std::vector<std::string> tokens = {});

  bool enabled() const { return !tokens_.empty(); }
  std::size_t size() const { return tokens_.size(); }
  // True when auth is off, or the Authorization header's value is "Bearer <one of the tokens>".
  bool allows(std::string_view authorization) const;

 private:
  std::vector<std::string> tokens_;
};

// "a, b,c" -> {"a", "b", "c"} (spaces around each token are dropped).
std::vector<std::string> parse_token_list(std::string_view comma_separated);

// One token per line; blank lines and lines starting with '#' are skipped. An error when the file
// cannot be read or holds no token.
Result<std::vector<std::string>> read_tokens_file(const std::string& path);

}  // namespace llmeval::server
