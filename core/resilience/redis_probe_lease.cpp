#include "core/resilience/redis_probe_lease.h"

#include <utility>

namespace llmeval::resilience {
namespace {

// KEYS[1]: the provider's lease set. ARGV: lease id, ttl ms, max probes.
constexpr const char* kAcquireScript = R"lua(
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[3]) then return 0 end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1
)lua";

}  // namespace

RedisProbeLease::RedisProbeLease(redis::RedisClient& client, std::string prefix, std::string process_id,
                                 int max_probes)
    : client_(client), prefix_(std::move(prefix)), process_id_(std::move(process_id)), max_probes_(max_probes) {}

RedisProbeLease::~RedisProbeLease() = default;

void RedisProbeLease::acquire(const std::string& key, std::chrono::milliseconds ttl,
                              std::function<void(LeaseId)> done) {
  LeaseId lease = process_id_ + ":" + std::to_string(++next_);
  client_.command({"EVAL", kAcquireScript, "1", prefix_ + "{" + key + "}:probes", lease, std::to_string(ttl.count()),
                   std::to_string(max_probes_)},
                  [alive = std::weak_ptr<bool>(alive_), lease, done = std::move(done)](
                      Result<redis::RedisValue> reply) {
                    if (!alive.lock()) return;
                    bool taken = reply.ok() && reply.value().integer == 0;
                    done(taken ? LeaseId{} : lease);
                  });
}

void RedisProbeLease::release(const std::string& key, const LeaseId& lease) {
  client_.command({"ZREM", prefix_ + "{" + key + "}:probes", lease}, [](Result<redis::RedisValue>) {});
}

}  // namespace llmeval::resilience
