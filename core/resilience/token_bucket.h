// TokenBucket: the classic token-bucket algorithm (pure math, time passed in). Capacity
// `capacity`, refilled continuously at `capacity` per `period`. A bucket starts full.
// capacity and period must be positive (LocalRateLimiter models "unlimited" as no bucket).
#pragma once

#include <chrono>
#include <cstdint>

#include "core/common/clock.h"

namespace llmeval::resilience {

class TokenBucket {
 public:
  TokenBucket(double capacity, std::chrono::milliseconds period, Clock::TimePoint now);

  // Takes n if available and returns 0; otherwise takes nothing and returns how long until n
  // would be available. n larger than capacity is clamped to capacity (so it can ever pass).
  std::chrono::milliseconds take(double n, Clock::TimePoint now);
  // Returns n to the bucket (capped at capacity); negative n takes more (may go below zero).
  void give_back(double n, Clock::TimePoint now);
  double available(Clock::TimePoint now);
  double capacity() const { return capacity_; }

 private:
  void refill(Clock::TimePoint now);
  double capacity_;
  double rate_per_ms_;
  double tokens_;
  Clock::TimePoint last_;
};

}  // namespace llmeval::resilience
