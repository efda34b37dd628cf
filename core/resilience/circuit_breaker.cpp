#include "core/resilience/circuit_breaker.h"

#include <algorithm>

namespace llmeval::resilience {

bool counts_against_provider(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::kTimeout:
    case ErrorKind::kConnect:
    case ErrorKind::kServer:
    case ErrorKind::kIo: return true;
    case ErrorKind::kRateLimited:
    case ErrorKind::kBadRequest:
    case ErrorKind::kAuth:
    case ErrorKind::kParse:
    case ErrorKind::kCancelled: return false;
  }
  return false;
}

CircuitBreaker::CircuitBreaker(Clock& clock, BreakerOptions options)
    : clock_(clock), options_(options), buckets_(static_cast<std::size_t>(std::max<std::int64_t>(1, options.window.count()))) {}

BreakerState CircuitBreaker::state() {
  if (state_ == BreakerState::kOpen && clock_.now() - opened_at_ >= options_.open_for) {
    state_ = BreakerState::kHalfOpen;
    probes_in_flight_ = 0;
  }
  return state_;
}

std::chrono::milliseconds CircuitBreaker::retry_in() {
  if (state() != BreakerState::kOpen) return std::chrono::milliseconds(0);
  auto left = options_.open_for - (clock_.now() - opened_at_);
  return std::max(std::chrono::milliseconds(1), std::chrono::ceil<std::chrono::milliseconds>(left));
}

bool CircuitBreaker::allow() {
  switch (state()) {
    case BreakerState::kClosed: return true;
    case BreakerState::kOpen: return false;
    case BreakerState::kHalfOpen:
      // Half-open lets a bounded number of probes through: enough to learn whether the
      // provider recovered, too few to pile load on one that has not.
      if (probes_in_flight_ >= options_.half_open_probes) return false;
      ++probes_in_flight_;
      return true;
  }
  return false;
}

void CircuitBreaker::on_success() {
  if (state() == BreakerState::kHalfOpen) {
    close();
    return;
  }
  consecutive_ = 0;
  record(false);
}

void CircuitBreaker::on_failure(ErrorKind kind) {
  BreakerState now = state();
  if (!counts_against_provider(kind)) {
    if (now == BreakerState::kHalfOpen && probes_in_flight_ > 0) --probes_in_flight_;
    return;
  }
  if (now == BreakerState::kHalfOpen) {
    open();
    return;
  }
  if (now == BreakerState::kOpen) return;  // a call from before it opened
  ++consecutive_;
  record(true);
  int calls = 0;
  int failures = 0;
  auto second = std::chrono::duration_cast<std::chrono::seconds>(clock_.now().time_since_epoch()).count();
  for (const auto& b : buckets_) {
    if (b.second > second - static_cast<std::int64_t>(buckets_.size())) {
      calls += b.calls;
      failures += b.failures;
    }
  }
  bool rate_tripped = calls >= options_.min_calls &&
                      static_cast<double>(failures) >= options_.failure_rate * static_cast<double>(calls);
  if (rate_tripped || consecutive_ >= options_.consecutive_failures) open();
}

CircuitBreaker::Bucket& CircuitBreaker::bucket_now() {
  auto second = std::chrono::duration_cast<std::chrono::seconds>(clock_.now().time_since_epoch()).count();
  Bucket& b = buckets_[static_cast<std::size_t>(second) % buckets_.size()];
  if (b.second != second) b = Bucket{second, 0, 0};
  return b;
}

void CircuitBreaker::record(bool failed) {
  Bucket& b = bucket_now();
  ++b.calls;
  if (failed) ++b.failures;
}

void CircuitBreaker::open() {
  state_ = BreakerState::kOpen;
  opened_at_ = clock_.now();
  probes_in_flight_ = 0;
  ++openings_;
}

void CircuitBreaker::close() {
  state_ = BreakerState::kClosed;
  consecutive_ = 0;
  probes_in_flight_ = 0;
  std::fill(buckets_.begin(), buckets_.end(), Bucket{});
}

}  // namespace llmeval::resilience
