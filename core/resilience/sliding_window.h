// SlidingWindow: counts of events over the last `window` seconds, in one-second buckets, in
// constant memory. Each event adds to one of two counters (say calls and failures, or requests
// and retries). Time comes from the Clock; loop thread only.
#pragma once

#include <chrono>
#include <cstdint>
#include <vector>

#include "core/common/clock.h"

namespace llmeval::resilience {

class SlidingWindow {
 public:
  struct Totals {
    std::int64_t first = 0;
    std::int64_t second = 0;
  };

  SlidingWindow(Clock& clock, std::chrono::seconds window);

  void add(std::int64_t first, std::int64_t second);
  Totals totals() const;
  void clear();

 private:
  struct Bucket {
    std::int64_t second_of_clock = -1;
    Totals counts;
  };
  std::int64_t current_second() const;

  Clock& clock_;
  std::vector<Bucket> buckets_;
};

}  // namespace llmeval::resilience
