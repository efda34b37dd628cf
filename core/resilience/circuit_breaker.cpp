#include "core/resilience/circuit_breaker.h"

#include <algorithm>
#include <cmath>

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
    : clock_(clock), options_(options), window_(clock, options.window) {}

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
  window_.add(1, 0);
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
  window_.add(1, 1);
  SlidingWindow::Totals seen = window_.totals();  // calls, failures
  bool rate_tripped = seen.first >= options_.min_calls &&
                      static_cast<double>(seen.second) >= options_.failure_rate * static_cast<double>(seen.first);
  if (rate_tripped || (consecutive_ >= options_.consecutive_failures && run_beyond_chance())) open();
}

bool CircuitBreaker::run_beyond_chance() const {
  constexpr double kChance = 1e-8;
  SlidingWindow::Totals seen = window_.totals();  // calls, failures; the run's most recent part included
  std::int64_t run = std::min<std::int64_t>(consecutive_, seen.second);
  std::int64_t calls_before = seen.first - run;
  std::int64_t failures_before = seen.second - run;
  if (failures_before == calls_before) return true;  // no success in the window
  // The failure rate before the run, with one success and one failure added (Laplace's rule),
  // so that a short clean history is not taken for certainty.
  double rate = static_cast<double>(failures_before + 1) / static_cast<double>(calls_before + 2);
  return std::pow(rate, static_cast<double>(consecutive_)) < kChance;
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
  window_.clear();
}

}  // namespace llmeval::resilience
