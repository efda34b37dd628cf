// StreamingMean: the summary's one-pass mean interval gives what the span-based functions of
// mean_interval.h give over the same values (tested there against independent values), in
// memory per cluster rather than per row.
#include "core/stats/streaming_mean.h"

#include <catch2/catch.hpp>

#include <cmath>
#include <string>
#include <vector>

#include "core/stats/mean_interval.h"

using llmeval::stats::clustered_mean_interval;
using llmeval::stats::mean_t_interval;
using llmeval::stats::StreamingMean;

TEST_CASE("StreamingMean: independent values give the t-interval", "[stats]") {
  const std::vector<double> values = {0.25, 1.0, 0.5, 0.75, 0.0, 1.0, 0.5};
  StreamingMean streaming;
  for (double v : values) streaming.add(v);
  auto expected = mean_t_interval(values, 0.95);
  auto got = streaming.interval(0.95);
  REQUIRE(expected);
  REQUIRE(got);
  CHECK_FALSE(streaming.clustered());
  CHECK(got->mean == Approx(expected->mean).epsilon(1e-12));
  CHECK(got->standard_error == Approx(expected->standard_error).epsilon(1e-12));
  CHECK(got->interval.lo == Approx(expected->interval.lo).epsilon(1e-12));
  CHECK(got->interval.hi == Approx(expected->interval.hi).epsilon(1e-12));
  CHECK(got->degrees_of_freedom == 6);
}

TEST_CASE("StreamingMean: grouped values give Miller's clustered interval, whatever their order", "[stats]") {
  // Clusters a (3 values), b (2), c (1) and two rows without a group, interleaved as a dataset
  // would have them.
  const std::vector<double> values = {0.9, 0.2, 0.8, 0.3, 1.0, 0.4, 0.6, 0.1};
  const std::vector<std::string> groups = {"a", "b", "a", "", "a", "b", "c", ""};
  std::vector<std::size_t> cluster_of;
  StreamingMean streaming;
  std::size_t next_singleton = 100;
  for (std::size_t i = 0; i < values.size(); ++i) {
    streaming.add(values[i], groups[i]);
    cluster_of.push_back(groups[i].empty() ? next_singleton++ : static_cast<std::size_t>(groups[i][0]));
  }
  auto expected = clustered_mean_interval(values, cluster_of, 0.95);
  auto got = streaming.interval(0.95);
  REQUIRE(expected);
  REQUIRE(got);
  CHECK(streaming.clustered());
  CHECK(got->clusters == 5);
  CHECK(got->mean == Approx(expected->mean).epsilon(1e-12));
  CHECK(got->standard_error == Approx(expected->standard_error).epsilon(1e-12));
  CHECK(got->interval.lo == Approx(expected->interval.lo).epsilon(1e-12));
  CHECK(got->interval.hi == Approx(expected->interval.hi).epsilon(1e-12));
  CHECK(std::isinf(got->degrees_of_freedom));
  // Related rows that agree make the mean less certain than as many independent rows.
  StreamingMean independent;
  for (double v : values) independent.add(v);
  CHECK(got->standard_error > independent.interval(0.95)->standard_error);
}

TEST_CASE("StreamingMean: too few values or clusters give no interval", "[stats]") {
  StreamingMean empty;
  CHECK_FALSE(empty.mean());
  CHECK_FALSE(empty.interval(0.95));
  StreamingMean one;
  one.add(0.5);
  CHECK(*one.mean() == 0.5);
  CHECK_FALSE(one.interval(0.95));
  StreamingMean one_cluster;
  one_cluster.add(0.5, "g");
  one_cluster.add(0.7, "g");
  CHECK_FALSE(one_cluster.interval(0.95));
  CHECK_FALSE(one_cluster.interval(1.0));
}
