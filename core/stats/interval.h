// Interval: a two-sided confidence interval [lo, hi], the shape every estimate in core/stats
// reports its uncertainty in. Kept apart so that proportions and means share one type.
#pragma once

namespace llmeval::stats {

struct Interval {
  double lo = 0;
  double hi = 0;
};

}  // namespace llmeval::stats
