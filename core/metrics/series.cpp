#include "core/metrics/series.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

#include "core/metrics/exposition.h"

namespace llmeval::metrics {

Histogram::Histogram(const Config& upper_bounds)
    : upper_bounds_(upper_bounds),
      // make_unique<T[]> value-initialises, and C++20 value-initialises std::atomic to zero.
      counts_(std::make_unique<std::atomic<std::uint64_t>[]>(upper_bounds.size() + 1)) {}

void Histogram::observe(double value) {
  std::size_t bucket = upper_bounds_.size();  // +Inf; also where NaN goes, as client_golang does
  if (!std::isnan(value)) {
    // Binary search: the first bound >= value is the bucket whose `le` admits it.
    auto it = std::lower_bound(upper_bounds_.begin(), upper_bounds_.end(), value);
    bucket = static_cast<std::size_t>(it - upper_bounds_.begin());
  }
  counts_[bucket].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(value, std::memory_order_relaxed);
}

Histogram::Snapshot Histogram::snapshot() const {
  Snapshot snap;
  snap.cumulative.reserve(upper_bounds_.size() + 1);
  std::uint64_t running = 0;
  for (std::size_t i = 0; i <= upper_bounds_.size(); ++i) {
    running += counts_[i].load(std::memory_order_relaxed);
    snap.cumulative.push_back(running);
  }
  // The count is the +Inf bucket by construction, so the two can never disagree on a scrape.
  snap.count = running;
  snap.sum = sum_.load(std::memory_order_relaxed);
  return snap;
}

std::vector<double> exponential_buckets(double start, double factor, int count) {
  if (!(start > 0) || !(factor > 1) || count < 1) {
    throw std::invalid_argument("exponential_buckets needs start > 0, factor > 1 and count >= 1 (got start=" +
                                format_value(start) + ", factor=" + format_value(factor) +
                                ", count=" + std::to_string(count) + ")");
  }
  std::vector<double> bounds;
  bounds.reserve(static_cast<std::size_t>(count));
  double bound = start;
  for (int i = 0; i < count; ++i) {
    bounds.push_back(bound);
    bound *= factor;
  }
  return bounds;
}

std::vector<double> default_latency_buckets() {
  return {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 3, 5, 8, 13, 20, 30, 45, 60};
}

std::vector<double> checked_buckets(std::vector<double> upper_bounds) {
  if (!upper_bounds.empty() && std::isinf(upper_bounds.back()) && upper_bounds.back() > 0) {
    upper_bounds.pop_back();
  }
  for (std::size_t i = 0; i < upper_bounds.size(); ++i) {
    double bound = upper_bounds[i];
    if (std::isnan(bound) || std::isinf(bound)) {
      throw std::invalid_argument("histogram bucket bound " + format_value(bound) + " is not a finite number");
    }
    if (i > 0 && !(upper_bounds[i - 1] < bound)) {
      throw std::invalid_argument("histogram bucket bounds must be strictly increasing (" +
                                  format_value(upper_bounds[i - 1]) + " then " + format_value(bound) + ")");
    }
  }
  return upper_bounds;
}

}  // namespace llmeval::metrics
