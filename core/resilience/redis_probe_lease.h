// RedisProbeLease: ProbeLease shared through Redis. Each provider has a sorted set
// `<prefix>{<provider>}:probes` of lease ids scored by their expiry (Redis server time); one
// Lua script drops expired ones and grants a new one while fewer than `max_probes` are held.
// When Redis fails or is slow the lease is granted: each process's breaker still bounds its own
// probes, and a run must not stall on Redis.
// `client` must outlive the lease. Loop thread only.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "core/redis/redis_client.h"
#include "core/resilience/probe_lease.h"

namespace llmeval::resilience {

class RedisProbeLease final : public ProbeLease {
 public:
  RedisProbeLease(redis::RedisClient& client, std::string prefix, std::string process_id, int max_probes);
  ~RedisProbeLease() override;

  void acquire(const std::string& key, std::chrono::milliseconds ttl, std::function<void(LeaseId)> done) override;
  void release(const std::string& key, const LeaseId& lease) override;

 private:
  redis::RedisClient& client_;
  std::string prefix_;
  std::string process_id_;
  int max_probes_;
  std::uint64_t next_ = 0;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace llmeval::resilience
