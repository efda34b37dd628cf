// RedisUrl: where the shared limiter's Redis lives, parsed from `redis://[:password@]host:port/db`
// (also `redis://user:password@host`, as Redis 6 ACL users write it). Defaults: port 6379, db 0.
// The password is a secret: to_display() leaves it out, for logs and errors.
#pragma once

#include <string>

#include "core/common/error.h"

namespace llmeval::redis {

struct RedisUrl {
  std::string host = "127.0.0.1";
  int port = 6379;
  std::string user;      // ACL user; empty = the default user
  std::string password;  // empty = no AUTH
  int db = 0;

  // "redis://host:port/db", never the password.
  std::string to_display() const;
};

// A clear kBadRequest error for anything that is not a redis:// URL of the shape above.
Result<RedisUrl> parse_redis_url(const std::string& text);

}  // namespace llmeval::redis
