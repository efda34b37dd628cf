// SharedJudgeCache: the judge cache in Redis, shared by every process that uses the same Redis
// and prefix (the pods of an Indexed Job, serve replicas, later reruns on other machines), in
// front of this machine's LocalJudgeCache (which may be absent).
//
// A lookup asks the local cache first, then Redis; a Redis hit is copied into the local cache.
// A store goes to both. Entries are `<prefix>cache:<key>` with the cache's TTL (SET ... EX).
// Redis trouble never fails a call: a lookup that Redis cannot answer is a miss, a store that
// fails is dropped, and the first such failure logs one warning (later ones are debug lines).
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "core/cache/judge_cache.h"
#include "core/redis/redis_client.h"

namespace llmeval::cache {

class SharedJudgeCache final : public JudgeCache {
 public:
  // `redis` and `local` (nullable) must outlive the cache.
  SharedJudgeCache(redis::RedisClient& redis, std::string prefix, std::chrono::seconds ttl, JudgeCache* local);

  void lookup(const std::string& key, LookupCallback done) override;
  void store(const std::string& key, const CachedVerdict& verdict) override;

  // Writes sent to Redis and not yet answered. A process about to exit waits for them
  // (when_flushed), or the verdicts of its last rows would never reach the other machines.
  std::size_t pending_writes() const { return pending_writes_; }
  // Calls `done` once no write is pending: on the loop, or before returning if none is.
  void when_flushed(std::function<void()> done);

 private:
  void degraded(const Error& error);

  redis::RedisClient& redis_;
  std::string prefix_;
  std::chrono::seconds ttl_;
  JudgeCache* local_;
  bool warned_ = false;
  std::size_t pending_writes_ = 0;
  std::function<void()> flushed_;
  // Replies may arrive after the cache is gone; they then do nothing.
  std::shared_ptr<char> alive_ = std::make_shared<char>();
};

}  // namespace llmeval::cache
