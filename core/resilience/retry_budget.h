// RetryBudget: caps one provider's retries to a share of its recent requests (the "retry
// budget" of gRPC and Finagle), so a provider in trouble is not hit by a storm of retries from
// every row at once. Over the last `window`, retries may be at most `min_retries` plus
// `ratio` × requests. `clock` must outlive the budget. Loop thread only.
#pragma once

#include <chrono>

#include "core/common/clock.h"
#include "core/resilience/sliding_window.h"

namespace llmeval::resilience {

struct RetryBudgetOptions {
  double ratio = 0.1;   // retries per request sent, over the window
  int min_retries = 10;  // always allowed per window, so a quiet run can still retry
  std::chrono::seconds window{10};
};

class RetryBudget {
 public:
  RetryBudget(Clock& clock, RetryBudgetOptions options) : options_(options), window_(clock, options.window) {}

  // Every request sent to the provider, retries included.
  void on_request() { window_.add(1, 0); }
  // Whether one more retry fits in the budget.
  bool has_room() {
    SlidingWindow::Totals seen = window_.totals();  // requests, retries
    double allowed = options_.min_retries + options_.ratio * static_cast<double>(seen.first);
    return static_cast<double>(seen.second) + 1 <= allowed;
  }
  // Counts a retry (whether or not it fitted).
  void spend() { window_.add(0, 1); }
  // True, and counted, when one more retry fits in the budget.
  bool try_spend() {
    if (!has_room()) return false;
    spend();
    return true;
  }

 private:
  RetryBudgetOptions options_;
  SlidingWindow window_;
};

}  // namespace llmeval::resilience
