// Series: the value behind one labelled time series: Counter, Gauge and Histogram, plus the
// bucket helpers histograms are built with.
//
// A family (core/metrics/family.h) creates its series and owns them for its own life, which is
// the Registry's; callers cache the references it hands out. Every update and read is lock-free
// and safe from any thread (`serve` runs one event loop per core): relaxed atomics, because a
// metric orders nothing else and a scrape only needs each value to be whole, not a snapshot
// across series. Series cannot be copied or moved (their address is their identity).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

namespace llmeval::metrics {

// Monotonic total. inc() ignores a negative or NaN increment: a counter that went down would
// read as a process restart to rate(), which is worse than losing a caller's bad value.
class Counter {
 public:
  struct Config {  // counters take no settings; families compare configs on re-registration
    bool operator==(const Config&) const = default;
  };

  Counter() = default;
  explicit Counter(const Config&) {}
  Counter(const Counter&) = delete;
  Counter& operator=(const Counter&) = delete;

  void inc(double by = 1) {
    if (!(by >= 0)) return;
    value_.fetch_add(by, std::memory_order_relaxed);
  }
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};  // C++20 fetch_add on double: a CAS loop, still lock-free
};

// A value that goes up and down: in-flight requests, queue depth, a state.
class Gauge {
 public:
  struct Config {
    bool operator==(const Config&) const = default;
  };

  Gauge() = default;
  explicit Gauge(const Config&) {}
  Gauge(const Gauge&) = delete;
  Gauge& operator=(const Gauge&) = delete;

  void set(double value) { value_.store(value, std::memory_order_relaxed); }
  void add(double by) { value_.fetch_add(by, std::memory_order_relaxed); }
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

// Distribution over fixed buckets: an observation v lands in the first bucket whose upper
// bound is >= v (Prometheus' `le`), or in the implicit +Inf bucket. Counts are kept per bucket
// and made cumulative when read, so observe() touches one counter and the sum.
class Histogram {
 public:
  using Config = std::vector<double>;  // upper bounds, as returned by checked_buckets()

  struct Snapshot {
    std::vector<std::uint64_t> cumulative;  // one per upper bound, then +Inf (== count)
    double sum = 0;
    std::uint64_t count = 0;
  };

  explicit Histogram(const Config& upper_bounds);
  Histogram(const Histogram&) = delete;
  Histogram& operator=(const Histogram&) = delete;

  void observe(double value);
  // Each bucket is read atomically but not all together: a scrape racing an observe() may see
  // its bucket without its sum. The next scrape is consistent again; rate() does not care.
  Snapshot snapshot() const;
  const std::vector<double>& upper_bounds() const { return upper_bounds_; }

 private:
  std::vector<double> upper_bounds_;
  std::unique_ptr<std::atomic<std::uint64_t>[]> counts_;  // upper_bounds_.size() + 1, not cumulative
  std::atomic<double> sum_{0};
};

// `count` bounds: start, start*factor, start*factor^2, ... Throws std::invalid_argument unless
// start > 0, factor > 1 and count >= 1.
std::vector<double> exponential_buckets(double start, double factor, int count);

// Upper bounds for LLM call latencies, 5 ms .. 60 s: fine steps below a second for cached and
// local calls, and enough buckets between 1 s and 60 s, where real completions land, for
// histogram_quantile() to say something useful about p95/p99.
std::vector<double> default_latency_buckets();

// Bounds ready for a Histogram: a trailing +Inf is dropped (it is always implied). Throws
// std::invalid_argument on NaN, -Inf, or bounds that are not strictly increasing. Empty is
// allowed: the histogram then only has its +Inf bucket.
std::vector<double> checked_buckets(std::vector<double> upper_bounds);

}  // namespace llmeval::metrics
