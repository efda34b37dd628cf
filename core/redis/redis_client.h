// RedisClient: one asynchronous connection to Redis on the LibeventLoop (hiredis async API and
// its libevent adapter), with a deadline per command and reconnection with backoff.
//
// Redis trouble must never stall the caller: every command answers within `command_timeout`,
// with the reply or with an Error (kTimeout, kConnect, kIo for a Redis error reply). A command
// that times out means Redis is stalled (e.g. SIGSTOPped): the connection is dropped, every
// pending command fails at once, and a new connection is tried after a backoff (100 ms doubling
// up to `reconnect_max`, jittered). While disconnected, commands fail immediately; while
// connecting they wait (within their deadline). Host names are resolved by hiredis with a
// blocking getaddrinfo on connect; use an IP address or a name the resolver answers quickly.
//
// Callbacks run on the loop thread, never inside command(). `loop` must outlive the client.
// Destroying the client drops the connection without running pending callbacks.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/common/error.h"
#include "core/common/event_loop.h"
#include "core/redis/redis_url.h"

namespace llmeval::redis {

// A reply, converted from hiredis' redisReply. Error replies become an Error instead.
struct RedisValue {
  enum class Type { kNil, kInteger, kString, kStatus, kArray };
  Type type = Type::kNil;
  long long integer = 0;
  std::string text;  // kString and kStatus
  std::vector<RedisValue> elements;  // kArray
};

struct RedisClientOptions {
  std::chrono::milliseconds command_timeout{50};
  std::chrono::milliseconds reconnect_min{100};
  std::chrono::milliseconds reconnect_max{5000};
};

using RedisCallback = std::function<void(Result<RedisValue>)>;

class RedisClient {
 public:
  // Starts connecting at once.
  RedisClient(LibeventLoop& loop, RedisUrl url, RedisClientOptions options = {});
  ~RedisClient();
  RedisClient(const RedisClient&) = delete;
  RedisClient& operator=(const RedisClient&) = delete;

  void command(std::vector<std::string> argv, RedisCallback done);
  bool connected() const;
  const RedisUrl& url() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace llmeval::redis
