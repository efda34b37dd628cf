// FakeClock: a Clock that only moves when the test says so. now() starts at an arbitrary
// fixed point (not the epoch, so "zero" time points stay distinguishable); wall_now() starts
// at 2024-01-01T00:00:00Z. advance() moves both; set_wall() moves only the wall clock.
// Not thread-safe: tests drive it from one thread.
#pragma once

#include <chrono>

#include "core/common/clock.h"

namespace llmeval::testing {

class FakeClock final : public Clock {
 public:
  static constexpr std::chrono::sys_seconds kDefaultWall{std::chrono::seconds(1704067200)};

  FakeClock() = default;
  explicit FakeClock(std::chrono::system_clock::time_point wall) : wall_(wall) {}

  TimePoint now() const override { return now_; }
  std::chrono::system_clock::time_point wall_now() const override { return wall_; }

  // Moves both clocks forward; a negative duration is ignored (now() is monotonic).
  void advance(Duration d) {
    if (d <= Duration::zero()) return;
    now_ += d;
    wall_ += std::chrono::duration_cast<std::chrono::system_clock::duration>(d);
  }
  void set_wall(std::chrono::system_clock::time_point wall) { wall_ = wall; }

 private:
  TimePoint now_ = TimePoint(std::chrono::hours(1000));
  std::chrono::system_clock::time_point wall_ = kDefaultWall;
};

}  // namespace llmeval::testing
