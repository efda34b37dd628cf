// LocalRateLimiter: in-process RateLimiter with a requests-per-minute and a tokens-per-minute
// TokenBucket per key (see token_bucket.h for the rules). Limits of 0 mean unlimited. A new
// bucket starts empty: a process that just started cannot know what was spent in the last
// moments, by itself before a restart or by others. Answers synchronously (the callback runs
// inside acquire()); never fails. `clock` must outlive the limiter. Not thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "core/common/clock.h"
#include "core/resilience/rate_limiter.h"
#include "core/resilience/token_bucket.h"

namespace llmeval::resilience {

struct Limits {
  std::int64_t rpm = 0;  // 0 = unlimited
  std::int64_t tpm = 0;  // 0 = unlimited
  // How much of the limit a full bucket holds, in time of refill (token_bucket.h).
  std::chrono::milliseconds burst = kDefaultBurst;
};

class LocalRateLimiter final : public RateLimiter {
 public:
  explicit LocalRateLimiter(Clock& clock) : clock_(clock) {}
  void set_limits(const std::string& key, Limits limits);

  void acquire(const std::string& key, std::int64_t tokens, AdmissionCallback callback) override;
  void reconcile(const std::string& key, std::int64_t reserved, std::int64_t actual) override;
  void hold_off(const std::string& key, std::chrono::milliseconds wait) override;

 private:
  struct Buckets {
    std::optional<TokenBucket> requests;
    std::optional<TokenBucket> tokens;
    Limits limits;
    std::optional<Clock::TimePoint> not_before;  // set by hold_off
  };
  Clock& clock_;
  std::map<std::string, Buckets> buckets_;
};

}  // namespace llmeval::resilience
