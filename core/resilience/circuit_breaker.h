// CircuitBreaker: one provider's closed -> open -> half-open state machine, driven by the Clock.
//
// Closed: every call goes through. It opens when, over the sliding window, at least
// `min_calls` calls were made and the share that failed reaches `failure_rate`, or on a run of
// at least `consecutive_failures` failures in a row that chance does not explain: no call in the
// window succeeded, or the run is less likely than one in 10^8 at the failure rate the window
// saw before it. A run length alone is no evidence at high volume (with 15% random errors, five
// in a row happen every few thousand calls; ten, about once in two million), while a provider
// that dies after a healthy stretch still opens it after five (a failure rate of 1/40 or less
// before the run). Open: no call goes through for `open_for`.
// Then half-open: at most `half_open_probes` calls at a time go through as probes; a probe
// success closes the breaker (with a fresh window), a probe failure opens it again.
//
// Only failures that say the provider is unwell count (timeouts, connection errors, 5xx/529,
// unreadable replies): a 429 is the limiter's business, a 400 is our mistake, a 401/403 is a
// key problem. `clock` must outlive the breaker. Not thread-safe (loop thread only).
#pragma once

#include <chrono>
#include <cstdint>

#include "core/common/clock.h"
#include "core/common/error.h"
#include "core/resilience/sliding_window.h"

namespace llmeval::resilience {

enum class BreakerState { kClosed = 0, kHalfOpen = 1, kOpen = 2 };  // values are the metric's

struct BreakerOptions {
  double failure_rate = 0.5;    // share of failed calls in the window that opens the breaker
  int min_calls = 10;           // fewer calls in the window never open it on the rate alone
  std::chrono::seconds window{30};
  int consecutive_failures = 5;  // the shortest run of failures that opens it (see above)
  std::chrono::seconds open_for{30};
  int half_open_probes = 1;  // calls let through at once while half-open
};

// Whether a failure of this kind says anything about the provider's health.
bool counts_against_provider(ErrorKind kind);

class CircuitBreaker {
 public:
  CircuitBreaker(Clock& clock, BreakerOptions options);

  // True when a call may go to the provider now (a half-open probe takes a slot until its
  // on_success / on_failure).
  bool allow();
  void on_success();
  // Failures that do not count (see counts_against_provider) only end a probe.
  void on_failure(ErrorKind kind);

  BreakerState state();
  // How long until an open breaker lets a probe through; zero unless open.
  std::chrono::milliseconds retry_in();
  std::int64_t openings() const { return openings_; }

 private:
  void open();
  void close();
  // Whether the current run of failures is beyond chance (see the class comment).
  bool run_beyond_chance() const;

  Clock& clock_;
  BreakerOptions options_;
  BreakerState state_ = BreakerState::kClosed;
  Clock::TimePoint opened_at_{};
  int consecutive_ = 0;
  int probes_in_flight_ = 0;
  std::int64_t openings_ = 0;
  SlidingWindow window_;  // first: calls, second: failures
};

}  // namespace llmeval::resilience
