#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <vector>

#include "core/metrics/series.h"

using llmeval::metrics::checked_buckets;
using llmeval::metrics::Counter;
using llmeval::metrics::default_latency_buckets;
using llmeval::metrics::exponential_buckets;
using llmeval::metrics::Gauge;
using llmeval::metrics::Histogram;

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

}  // namespace

TEST_CASE("Counter adds increments and never goes down", "[metrics]") {
  Counter counter;
  CHECK(counter.value() == 0);
  counter.inc();
  counter.inc(2.5);
  CHECK(counter.value() == 3.5);
  SECTION("a negative or NaN increment is dropped") {
    counter.inc(-1);
    counter.inc(kNaN);
    CHECK(counter.value() == 3.5);
  }
}

TEST_CASE("Gauge sets and adds in both directions", "[metrics]") {
  Gauge gauge;
  gauge.set(2);
  gauge.add(3);
  gauge.add(-4.5);
  CHECK(gauge.value() == 0.5);
  gauge.set(-1);
  CHECK(gauge.value() == -1);
}

TEST_CASE("Histogram counts an observation in the first bucket whose bound admits it", "[metrics]") {
  Histogram histogram({0.5, 1, 5});
  for (double v : {-3.0, 0.0, 0.5, 0.75, 1.0, 4.0, 5.0, 9.0}) histogram.observe(v);
  Histogram::Snapshot snap = histogram.snapshot();
  // le="0.5": -3, 0, 0.5 (bounds are inclusive); le="1": +0.75, 1; le="5": +4, 5; +Inf: +9.
  CHECK(snap.cumulative == std::vector<std::uint64_t>{3, 5, 7, 8});
  CHECK(snap.count == 8);
  CHECK(snap.sum == 17.25);

  SECTION("NaN goes to the +Inf bucket only and poisons the sum") {
    histogram.observe(kNaN);
    snap = histogram.snapshot();
    CHECK(snap.cumulative == std::vector<std::uint64_t>{3, 5, 7, 9});
    CHECK(std::isnan(snap.sum));
  }
  SECTION("+Inf lands in the +Inf bucket") {
    histogram.observe(kInf);
    CHECK(histogram.snapshot().cumulative == std::vector<std::uint64_t>{3, 5, 7, 9});
  }
}

TEST_CASE("Histogram without bounds has only the +Inf bucket", "[metrics]") {
  Histogram histogram({});
  histogram.observe(1);
  histogram.observe(2);
  Histogram::Snapshot snap = histogram.snapshot();
  CHECK(snap.cumulative == std::vector<std::uint64_t>{2});
  CHECK(snap.count == 2);
  CHECK(snap.sum == 3);
}

TEST_CASE("exponential_buckets multiplies from start, and rejects shapes that do not grow", "[metrics]") {
  CHECK(exponential_buckets(1, 2, 4) == std::vector<double>{1, 2, 4, 8});
  CHECK(exponential_buckets(0.25, 4, 3) == std::vector<double>{0.25, 1, 4});
  CHECK(exponential_buckets(5, 3, 1) == std::vector<double>{5});
  CHECK_THROWS_AS(exponential_buckets(0, 2, 4), std::invalid_argument);
  CHECK_THROWS_AS(exponential_buckets(-1, 2, 4), std::invalid_argument);
  CHECK_THROWS_AS(exponential_buckets(1, 1, 4), std::invalid_argument);
  CHECK_THROWS_AS(exponential_buckets(1, 2, 0), std::invalid_argument);
  CHECK_THROWS_AS(exponential_buckets(kNaN, 2, 3), std::invalid_argument);
}

TEST_CASE("default_latency_buckets spans 5 ms to 60 s in increasing order", "[metrics]") {
  std::vector<double> buckets = default_latency_buckets();
  REQUIRE(buckets.size() >= 10);
  CHECK(buckets.front() == 0.005);
  CHECK(buckets.back() == 60);
  CHECK(checked_buckets(buckets) == buckets);
}

TEST_CASE("checked_buckets drops a trailing +Inf and rejects disorder and non-numbers", "[metrics]") {
  CHECK(checked_buckets({1, 2, kInf}) == std::vector<double>{1, 2});
  CHECK(checked_buckets({kInf}).empty());
  CHECK(checked_buckets({}).empty());
  CHECK(checked_buckets({-1, 0, 0.5}) == std::vector<double>{-1, 0, 0.5});
  CHECK_THROWS_AS(checked_buckets({2, 1}), std::invalid_argument);
  CHECK_THROWS_AS(checked_buckets({1, 1}), std::invalid_argument);
  CHECK_THROWS_AS(checked_buckets({1, kNaN}), std::invalid_argument);
  CHECK_THROWS_AS(checked_buckets({-kInf, 1}), std::invalid_argument);
  CHECK_THROWS_AS(checked_buckets({kInf, kInf}), std::invalid_argument);
  CHECK_THROWS_WITH(checked_buckets({3, 2}), Catch::Contains("strictly increasing"));
}
