// Clock: the only source of time for limiters, breakers, retries and the runner.
// now() is monotonic and is for intervals; wall_now() is for records and logs.
// Tests pass a FakeClock (tests/fakes/fake_clock.h) and advance it by hand.
#pragma once

#include <chrono>

namespace llmeval {

class Clock {
 public:
  using Duration = std::chrono::steady_clock::duration;
  using TimePoint = std::chrono::steady_clock::time_point;

  virtual ~Clock() = default;
  virtual TimePoint now() const = 0;
  virtual std::chrono::system_clock::time_point wall_now() const = 0;
};

class SystemClock final : public Clock {
 public:
  TimePoint now() const override { return std::chrono::steady_clock::now(); }
  std::chrono::system_clock::time_point wall_now() const override {
    return std::chrono::system_clock::now();
  }
};

}  // namespace llmeval
