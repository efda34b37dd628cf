#include "core/resilience/token_bucket.h"

#include <algorithm>
#include <cassert>
#include <cmath>

namespace llmeval::resilience {
namespace {

// Slack for floating-point drift: after waiting exactly the time take() returned, the refill may
// land a hair below n; the wait was rounded up to whole milliseconds, so that hair is noise.
constexpr double kEpsilon = 1e-9;

}  // namespace

BucketShape shape_for(std::int64_t per_minute, std::chrono::milliseconds burst) {
  assert(per_minute > 0);
  double rate = static_cast<double>(per_minute) / 60000.0;
  return BucketShape{std::max(1.0, rate * static_cast<double>(burst.count())), rate};
}

TokenBucket::TokenBucket(BucketShape shape, double initial_tokens, Clock::TimePoint now)
    : shape_(shape), tokens_(std::min(initial_tokens, shape.capacity)), last_(now) {
  assert(shape.capacity > 0 && shape.rate_per_ms > 0);
}

// Continuous refill: elapsed time times the rate, never above capacity. Time that runs
// backwards (it should not: the clock is monotonic) refills nothing.
void TokenBucket::refill(Clock::TimePoint now) {
  if (now <= last_) return;
  double elapsed_ms = std::chrono::duration<double, std::milli>(now - last_).count();
  tokens_ = std::min(shape_.capacity, tokens_ + elapsed_ms * shape_.rate_per_ms);
  last_ = now;
}

std::chrono::milliseconds TokenBucket::take(double n, Clock::TimePoint now) {
  refill(now);
  n = std::max(n, 0.0);
  double needed = std::min(n, shape_.capacity);
  if (tokens_ + kEpsilon >= needed) {
    tokens_ -= n;
    return std::chrono::milliseconds(0);
  }
  double wait_ms = std::ceil((needed - tokens_) / shape_.rate_per_ms);
  return std::chrono::milliseconds(std::max<std::int64_t>(1, static_cast<std::int64_t>(wait_ms)));
}

void TokenBucket::give_back(double n, Clock::TimePoint now) {
  refill(now);
  tokens_ = std::min(shape_.capacity, tokens_ + n);
}

double TokenBucket::available(Clock::TimePoint now) {
  refill(now);
  return tokens_;
}

}  // namespace llmeval::resilience
