#include <catch2/catch.hpp>

#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "core/metrics/family.h"

using llmeval::metrics::Counter;
using llmeval::metrics::CounterFamily;
using llmeval::metrics::GaugeFamily;
using llmeval::metrics::HistogramFamily;
using llmeval::metrics::MetricType;

TEST_CASE("Family hands out one series per distinct label values, created on first use", "[metrics]") {
  CounterFamily family("requests_total", "Requests.", {"provider", "code"}, {});
  CHECK(family.series_count() == 0);
  Counter& ok = family.with({"openai", "200"});
  Counter& again = family.with({"openai", "200"});
  Counter& other = family.with({"openai", "429"});
  CHECK(&ok == &again);
  CHECK(&ok != &other);
  CHECK(family.series_count() == 2);
  CHECK(family.type() == MetricType::kCounter);
}

TEST_CASE("Family rejects a wrong number of label values", "[metrics]") {
  CounterFamily family("requests_total", "Requests.", {"provider", "code"}, {});
  CHECK_THROWS_AS(family.with({"openai"}), std::invalid_argument);
  CHECK_THROWS_AS(family.with({"openai", "200", "extra"}), std::invalid_argument);
  CHECK_THROWS_WITH(family.with({}), Catch::Contains("takes 2 label value(s) (provider, code), got 0"));
  CHECK_THROWS_AS(family.get(), std::invalid_argument);
  CHECK(family.series_count() == 0);
}

TEST_CASE("An unlabelled family has its one series from the start", "[metrics]") {
  GaugeFamily family("up", "Up.", {}, {});
  CHECK(family.series_count() == 1);
  family.get().set(1);
  CHECK(&family.get() == &family.with({}));
  CHECK(family.with({}).value() == 1);
  CHECK_THROWS_AS(family.with({"x"}), std::invalid_argument);
}

TEST_CASE("Series references stay valid while many more series are created", "[metrics]") {
  CounterFamily family("items_total", "Items.", {"id"}, {});
  Counter& first = family.with({"first"});
  first.inc(7);
  for (int i = 0; i < 5000; ++i) family.with({std::to_string(i)}).inc();
  CHECK(&family.with({"first"}) == &first);
  CHECK(first.value() == 7);
  CHECK(family.series_count() == 5001);
}

TEST_CASE("Family names and label names are checked when it is created", "[metrics]") {
  CHECK_NOTHROW(CounterFamily("ns:sub_total", "ok", {"a_b", "_c", "d1"}, {}));
  CHECK_THROWS_AS(CounterFamily("", "h", {}, {}), std::invalid_argument);
  CHECK_THROWS_AS(CounterFamily("1abc", "h", {}, {}), std::invalid_argument);
  CHECK_THROWS_AS(CounterFamily("a-b", "h", {}, {}), std::invalid_argument);
  CHECK_THROWS_AS(CounterFamily("a b", "h", {}, {}), std::invalid_argument);
  CHECK_THROWS_AS(CounterFamily("ok", "h", {"a:b"}, {}), std::invalid_argument);
  CHECK_THROWS_AS(CounterFamily("ok", "h", {"__reserved"}, {}), std::invalid_argument);
  CHECK_THROWS_AS(CounterFamily("ok", "h", {"9a"}, {}), std::invalid_argument);
  CHECK_THROWS_WITH(CounterFamily("ok", "h", {"a", "b", "a"}, {}), Catch::Contains("label 'a' appears twice"));
  CHECK_THROWS_AS(HistogramFamily("h", "h", {"le"}, {1}), std::invalid_argument);
  CHECK_NOTHROW(CounterFamily("c", "h", {"le"}, {}));  // only histograms reserve le
}

TEST_CASE("Family creates series safely from several threads", "[metrics]") {
  CounterFamily family("calls_total", "Calls.", {"worker", "n"}, {});
  constexpr int kThreads = 4;
  constexpr int kSeriesPerThread = 500;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&family, t] {
      // Every thread touches every "shared" series, and creates its own as well.
      for (int i = 0; i < kSeriesPerThread; ++i) {
        family.with({"shared", std::to_string(i)}).inc();
        family.with({std::to_string(t), std::to_string(i)}).inc();
      }
    });
  }
  for (auto& thread : threads) thread.join();
  CHECK(family.series_count() == static_cast<std::size_t>(kSeriesPerThread * (kThreads + 1)));
  for (int i = 0; i < kSeriesPerThread; ++i) {
    REQUIRE(family.with({"shared", std::to_string(i)}).value() == kThreads);
  }
}
