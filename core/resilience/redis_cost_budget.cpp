#include "core/resilience/redis_cost_budget.h"

#include <algorithm>
#include <utility>

#include "core/common/logging.h"

namespace llmeval::resilience {
namespace {

constexpr const char* kTtlSeconds = "604800";  // 7 days

// KEYS[1]: the budget hash. ARGV: amount, limit, ttl s. Returns {granted, committed, spent}.
constexpr const char* kReserveScript = R"lua(
local committed = tonumber(redis.call('HGET', KEYS[1], 'committed') or '0')
local spent = tonumber(redis.call('HGET', KEYS[1], 'spent') or '0')
local amount = tonumber(ARGV[1])
if committed + amount > tonumber(ARGV[2]) then return {0, committed, spent} end
committed = redis.call('HINCRBY', KEYS[1], 'committed', amount)
redis.call('EXPIRE', KEYS[1], ARGV[3])
return {1, committed, spent}
)lua";

// KEYS[1]: the budget hash. ARGV: reserved, actual, ttl s. Returns {committed, spent}.
constexpr const char* kSettleScript = R"lua(
local committed = redis.call('HINCRBY', KEYS[1], 'committed', tonumber(ARGV[2]) - tonumber(ARGV[1]))
local spent = redis.call('HINCRBY', KEYS[1], 'spent', ARGV[2])
redis.call('EXPIRE', KEYS[1], ARGV[3])
return {committed, spent}
)lua";

long long element(const redis::RedisValue& value, std::size_t i) {
  return i < value.elements.size() ? value.elements[i].integer : 0;
}

}  // namespace

// What Redis last said, and what this process reserved while it could not ask.
struct RedisCostBudget::Known {
  Nanodollars committed = 0;
  Nanodollars spent = 0;
  Nanodollars reserved_unsynced = 0;
  bool warned = false;
};

RedisCostBudget::RedisCostBudget(redis::RedisClient& client, std::string key, Nanodollars limit)
    : client_(client), key_(std::move(key)), limit_(limit), known_(std::make_shared<Known>()) {}

RedisCostBudget::~RedisCostBudget() = default;

void RedisCostBudget::reserve(Nanodollars amount, std::function<void(bool)> done) {
  client_.command({"EVAL", kReserveScript, "1", key_, std::to_string(amount), std::to_string(limit_), kTtlSeconds},
                  [this, weak = std::weak_ptr<Known>(known_), amount,
                   done = std::move(done)](Result<redis::RedisValue> reply) {
                    auto known = weak.lock();
                    if (!known) return;
                    if (!reply.ok()) {
                      degraded(reply.error());
                      bool fits = known->committed + known->reserved_unsynced + amount <= limit_;
                      if (fits) known->reserved_unsynced += amount;
                      done(fits);
                      return;
                    }
                    known->committed = element(reply.value(), 1);
                    known->spent = element(reply.value(), 2);
                    done(element(reply.value(), 0) == 1);
                  });
}

void RedisCostBudget::settle(Nanodollars reserved, Nanodollars actual) {
  spent_here_ += actual;
  client_.command({"EVAL", kSettleScript, "1", key_, std::to_string(reserved), std::to_string(actual), kTtlSeconds},
                  [this, weak = std::weak_ptr<Known>(known_)](Result<redis::RedisValue> reply) {
                    auto known = weak.lock();
                    if (!known) return;
                    if (!reply.ok()) {
                      degraded(reply.error());
                      return;
                    }
                    known->committed = element(reply.value(), 0);
                    known->spent = element(reply.value(), 1);
                  });
}

Nanodollars RedisCostBudget::spent() const { return std::max(known_->spent, spent_here_); }

void RedisCostBudget::degraded(const Error& error) {
  if (known_->warned) return;
  known_->warned = true;
  logger("budget")->warn(
      "the shared cost budget in Redis is unreachable ({}); going on with what was last known there plus this "
      "process's own spend",
      error.message);
}

}  // namespace llmeval::resilience
