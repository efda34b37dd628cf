#include "core/resilience/sliding_window.h"

#include <algorithm>

namespace llmeval::resilience {

SlidingWindow::SlidingWindow(Clock& clock, std::chrono::seconds window)
    : clock_(clock), buckets_(static_cast<std::size_t>(std::max<std::int64_t>(1, window.count()))) {}

std::int64_t SlidingWindow::current_second() const {
  return std::chrono::duration_cast<std::chrono::seconds>(clock_.now().time_since_epoch()).count();
}

void SlidingWindow::add(std::int64_t first, std::int64_t second) {
  std::int64_t now = current_second();
  Bucket& b = buckets_[static_cast<std::size_t>(now) % buckets_.size()];
  if (b.second_of_clock != now) b = Bucket{now, {}};
  b.counts.first += first;
  b.counts.second += second;
}

SlidingWindow::Totals SlidingWindow::totals() const {
  std::int64_t now = current_second();
  auto size = static_cast<std::int64_t>(buckets_.size());
  Totals sum;
  for (const auto& b : buckets_) {
    if (b.second_of_clock > now - size) {
      sum.first += b.counts.first;
      sum.second += b.counts.second;
    }
  }
  return sum;
}

void SlidingWindow::clear() { std::fill(buckets_.begin(), buckets_.end(), Bucket{}); }

}  // namespace llmeval::resilience
