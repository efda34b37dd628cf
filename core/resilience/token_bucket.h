// TokenBucket: a per-minute limit as a continuously refilled token bucket (pure math, time
// passed in). The same rules run in Redis (redis_rate_limiter.cpp's script) for shared limits:
//  - it refills at limit/60 per second and holds at most `burst` worth of the limit (at least
//    one unit), so a provider enforcing the limit over short intervals never sees a burst;
//  - a take of n passes when min(n, capacity) tokens are there and then takes all n, so a
//    request larger than the whole bucket passes once it is full and leaves it in debt.
// Limits must be positive (limiters model "unlimited" as no bucket).
#pragma once

#include <chrono>
#include <cstdint>

#include "core/common/clock.h"

namespace llmeval::resilience {

// One second's worth: enough to keep a provider busy, small enough that the bucket's burst
// does not trip a provider that enforces its per-minute limit per second.
constexpr std::chrono::milliseconds kDefaultBurst{1000};

struct BucketShape {
  double capacity = 1;
  double rate_per_ms = 1;
};

BucketShape shape_for(std::int64_t per_minute, std::chrono::milliseconds burst = kDefaultBurst);

class TokenBucket {
 public:
  TokenBucket(BucketShape shape, double initial_tokens, Clock::TimePoint now);

  // Takes n if min(n, capacity) is available and returns 0; otherwise takes nothing and returns
  // how long until it would be (at least 1 ms). Negative n counts as zero.
  std::chrono::milliseconds take(double n, Clock::TimePoint now);
  // Returns n to the bucket (capped at capacity); negative n takes more (may go below zero).
  void give_back(double n, Clock::TimePoint now);
  double available(Clock::TimePoint now);
  double capacity() const { return shape_.capacity; }

 private:
  void refill(Clock::TimePoint now);
  BucketShape shape_;
  double tokens_;
  Clock::TimePoint last_;
};

}  // namespace llmeval::resilience
