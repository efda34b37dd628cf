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

TokenBucket::TokenBucket(double capacity, std::chrono::milliseconds period, Clock::TimePoint now)
    : capacity_(capacity),
      rate_per_ms_(capacity / static_cast<double>(period.count())),
      tokens_(capacity),
      last_(now) {
  assert(capacity > 0 && period.count() > 0);
}

// Continuous refill: elapsed time times the rate, never above capacity. Time that runs
// backwards (it should not: the clock is monotonic) refills nothing.
void TokenBucket::refill(Clock::TimePoint now) {
  if (now <= last_) return;
  double elapsed_ms = std::chrono::duration<double, std::milli>(now - last_).count();
  tokens_ = std::min(capacity_, tokens_ + elapsed_ms * rate_per_ms_);
  last_ = now;
}

std::chrono::milliseconds TokenBucket::take(double n, Clock::TimePoint now) {
  refill(now);
  n = std::clamp(n, 0.0, capacity_);
  if (tokens_ + kEpsilon >= n) {
    tokens_ -= n;
    return std::chrono::milliseconds(0);
  }
  double wait_ms = std::ceil((n - tokens_) / rate_per_ms_);
  return std::chrono::milliseconds(std::max<std::int64_t>(1, static_cast<std::int64_t>(wait_ms)));
}

void TokenBucket::give_back(double n, Clock::TimePoint now) {
  refill(now);
  tokens_ = std::min(capacity_, tokens_ + n);
}

double TokenBucket::available(Clock::TimePoint now) {
  refill(now);
  return tokens_;
}

}  // namespace llmeval::resilience
