// RedisRateLimiter: rpm and tpm limits shared by every llmeval process that uses the same
// Redis and provider name, so N processes together stay under one provider account's limit.
//
// Each decision is one atomic Lua script on Redis, timed by the Redis server's clock (TIME), on
// one hash per provider: `<prefix>{<provider>}:bucket` (the hash tag keeps a decision's keys in
// one Redis Cluster slot). The bucket rules are TokenBucket's (token_bucket.h); a bucket Redis
// does not have (first use, Redis restarted, idle past its TTL) starts empty. The same hash
// holds the provider's "not before" time, set by hold_off() after a 429, which every process
// honours. Requests for one provider queue in this process, first come first served, and only
// the head asks Redis: a refusal's wait is slept on a timer, so waiting costs no Redis traffic.
//
// Redis trouble never stops a run: when a Redis call fails or times out (RedisClient's short
// deadline), the limiter degrades to a LocalRateLimiter holding this process's share of each
// limit (limit ÷ live processes, counted from heartbeats every second in
// `<prefix>{<provider>}:procs`), logs once, reports it through `on_degraded`, and returns to
// the shared bucket by itself when a heartbeat gets through again. A process that never reached
// Redis assumes it is alone.
//
// `loop`, `clock` and `client` must outlive the limiter. Loop thread only.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "core/common/clock.h"
#include "core/common/event_loop.h"
#include "core/redis/redis_client.h"
#include "core/resilience/local_rate_limiter.h"
#include "core/resilience/rate_limiter.h"
#include "core/resilience/token_bucket.h"

namespace llmeval::resilience {

struct RedisLimiterOptions {
  std::string prefix = "llmeval:";
  std::string process_id;  // unique per process (host:pid:random); names its heartbeat
  std::chrono::milliseconds heartbeat_every{1000};
  std::chrono::milliseconds process_ttl{5000};  // a process silent this long no longer counts
  std::function<void(bool degraded)> on_degraded;  // called on every change
};

class RedisRateLimiter final : public RateLimiter {
 public:
  RedisRateLimiter(EventLoop& loop, Clock& clock, redis::RedisClient& client, RedisLimiterOptions options);
  ~RedisRateLimiter() override;
  RedisRateLimiter(const RedisRateLimiter&) = delete;
  RedisRateLimiter& operator=(const RedisRateLimiter&) = delete;

  void set_limits(const std::string& key, Limits limits);

  void acquire(const std::string& key, std::int64_t tokens, AdmissionCallback callback) override;
  void reconcile(const std::string& key, std::int64_t reserved, std::int64_t actual) override;
  void hold_off(const std::string& key, std::chrono::milliseconds wait) override;

  bool degraded() const;
  // Processes counted by the last heartbeat for key (at least 1).
  std::int64_t live_processes(const std::string& key) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace llmeval::resilience
