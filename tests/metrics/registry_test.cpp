#include <catch2/catch.hpp>

#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "core/metrics/registry.h"

using llmeval::metrics::Counter;
using llmeval::metrics::Gauge;
using llmeval::metrics::Histogram;
using llmeval::metrics::Registry;

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

struct RenderCase {
  const char* what;
  void (*fill)(Registry&);
  const char* expected;
};

}  // namespace

TEST_CASE("Registry renders the text exposition format exactly", "[metrics]") {
  const std::vector<RenderCase> cases = {
      {"an empty registry renders nothing", [](Registry&) {}, ""},
      {"an unlabelled counter renders 0 before anything happens",
       [](Registry& r) { r.counter("jobs_total", "Jobs done."); },
       "# HELP jobs_total Jobs done.\n"
       "# TYPE jobs_total counter\n"
       "jobs_total 0\n"},
      {"a labelled family without series renders only HELP and TYPE",
       [](Registry& r) { r.gauge("temp_celsius", "Temperature.", {"room"}); },
       "# HELP temp_celsius Temperature.\n"
       "# TYPE temp_celsius gauge\n"},
      {"families in registration order, series in creation order",
       [](Registry& r) {
         auto& requests = r.counter("app_requests_total", "Requests handled.", {"method", "code"});
         r.gauge("app_up", "Whether the app is up.").get().set(1);
         requests.with({"POST", "500"}).inc();
         requests.with({"GET", "200"}).inc(3);
         requests.with({"POST", "500"}).inc(0.5);
       },
       "# HELP app_requests_total Requests handled.\n"
       "# TYPE app_requests_total counter\n"
       "app_requests_total{method=\"POST\",code=\"500\"} 1.5\n"
       "app_requests_total{method=\"GET\",code=\"200\"} 3\n"
       "# HELP app_up Whether the app is up.\n"
       "# TYPE app_up gauge\n"
       "app_up 1\n"},
      {"an unlabelled histogram: cumulative buckets, +Inf, sum and count",
       [](Registry& r) {
         Histogram& h = r.histogram("lat_seconds", "Latency.", {}, {0.125, 0.5, 1}).get();
         for (double v : {0.0625, 0.5, 2.0}) h.observe(v);
       },
       "# HELP lat_seconds Latency.\n"
       "# TYPE lat_seconds histogram\n"
       "lat_seconds_bucket{le=\"0.125\"} 1\n"
       "lat_seconds_bucket{le=\"0.5\"} 2\n"
       "lat_seconds_bucket{le=\"1\"} 2\n"
       "lat_seconds_bucket{le=\"+Inf\"} 3\n"
       "lat_seconds_sum 2.5625\n"
       "lat_seconds_count 3\n"},
      {"a labelled histogram puts le after the family's labels",
       [](Registry& r) {
         r.histogram("wait_seconds", "Wait.", {"provider"}, {1}).with({"openai"}).observe(0.25);
       },
       "# HELP wait_seconds Wait.\n"
       "# TYPE wait_seconds histogram\n"
       "wait_seconds_bucket{provider=\"openai\",le=\"1\"} 1\n"
       "wait_seconds_bucket{provider=\"openai\",le=\"+Inf\"} 1\n"
       "wait_seconds_sum{provider=\"openai\"} 0.25\n"
       "wait_seconds_count{provider=\"openai\"} 1\n"},
      {"label values and HELP are escaped",
       [](Registry& r) {
         r.counter("odd_total", "Back\\slash \"quotes\"\nsecond line.", {"path"}).with({"C:\\x \"y\"\nz"}).inc();
       },
       "# HELP odd_total Back\\\\slash \"quotes\"\\nsecond line.\n"
       "# TYPE odd_total counter\n"
       "odd_total{path=\"C:\\\\x \\\"y\\\"\\nz\"} 1\n"},
      {"gauges render negative, fractional and non-finite values",
       [](Registry& r) {
         auto& g = r.gauge("g", "G.", {"k"});
         g.with({"neg"}).set(-2);
         g.with({"frac"}).set(0.1);
         g.with({"inf"}).set(kInf);
       },
       "# HELP g G.\n"
       "# TYPE g gauge\n"
       "g{k=\"neg\"} -2\n"
       "g{k=\"frac\"} 0.1\n"
       "g{k=\"inf\"} +Inf\n"},
  };
  for (const auto& c : cases) {
    INFO(c.what);
    Registry registry;
    c.fill(registry);
    CHECK(registry.render() == c.expected);
  }
}

TEST_CASE("Registering a name again with the same shape returns the same family", "[metrics]") {
  Registry registry;
  auto& counter = registry.counter("c_total", "C.", {"a"});
  CHECK(&registry.counter("c_total", "Another help text.", {"a"}) == &counter);
  auto& gauge = registry.gauge("g", "G.");
  CHECK(&registry.gauge("g", "G.", {}) == &gauge);
  auto& histogram = registry.histogram("h", "H.", {"p"}, {1, 2});
  CHECK(&registry.histogram("h", "H.", {"p"}, {1, 2, kInf}) == &histogram);  // +Inf is implied
  // The family is rendered once, with the first HELP text.
  CHECK(registry.render().find("Another help text.") == std::string::npos);
}

TEST_CASE("Registering a name again with another type, labels or buckets is a logic error", "[metrics]") {
  Registry registry;
  registry.counter("c_total", "C.", {"a"});
  registry.histogram("h", "H.", {}, {1, 2});
  CHECK_THROWS_AS(registry.gauge("c_total", "C.", {"a"}), std::logic_error);
  CHECK_THROWS_AS(registry.histogram("c_total", "C.", {"a"}), std::logic_error);
  CHECK_THROWS_AS(registry.counter("c_total", "C."), std::logic_error);
  CHECK_THROWS_AS(registry.counter("c_total", "C.", {"b"}), std::logic_error);
  CHECK_THROWS_AS(registry.counter("c_total", "C.", {"a", "b"}), std::logic_error);
  CHECK_THROWS_AS(registry.histogram("h", "H.", {}, {1, 3}), std::logic_error);
  CHECK_THROWS_WITH(registry.gauge("c_total", "C.", {"a"}),
                    "metric 'c_total' is already registered as counter {a}; cannot register it as gauge {a}");
  CHECK_THROWS_WITH(registry.histogram("h", "H.", {}, {1}), Catch::Contains("buckets [1, 2]"));
  // The failed attempts left the registry as it was.
  CHECK(registry.render() ==
        "# HELP c_total C.\n# TYPE c_total counter\n"
        "# HELP h H.\n# TYPE h histogram\n"
        "h_bucket{le=\"1\"} 0\nh_bucket{le=\"2\"} 0\nh_bucket{le=\"+Inf\"} 0\nh_sum 0\nh_count 0\n");
}

TEST_CASE("Registry rejects bad names and bucket bounds", "[metrics]") {
  Registry registry;
  CHECK_THROWS_AS(registry.counter("bad-name", "x"), std::invalid_argument);
  CHECK_THROWS_AS(registry.gauge("ok", "x", {"__name__"}), std::invalid_argument);
  CHECK_THROWS_AS(registry.histogram("h", "x", {"le"}), std::invalid_argument);
  CHECK_THROWS_AS(registry.histogram("h", "x", {}, {2, 1}), std::invalid_argument);
  CHECK(registry.render().empty());
}

TEST_CASE("Concurrent updates from 4 threads on cached series all count", "[metrics]") {
  Registry registry;
  Counter& counter = registry.counter("hits_total", "Hits.").get();
  Counter& halves = registry.counter("halves_total", "Halves.").get();
  Gauge& gauge = registry.gauge("level", "Level.").get();
  Histogram& histogram = registry.histogram("obs", "Obs.", {}, {1}).get();
  auto& labelled = registry.counter("by_thread_total", "By thread.", {"thread"});
  constexpr int kThreads = 4;
  constexpr int kPerThread = 100000;

  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      Counter& mine = labelled.with({std::to_string(t % 2)});
      for (int i = 0; i < kPerThread; ++i) {
        counter.inc();
        halves.inc(0.5);  // exact in binary, so any lost compare-exchange shows in the total
        gauge.add(i % 2 == 0 ? 3 : -1);
        histogram.observe(i % 2 == 0 ? 0.5 : 2);
        mine.inc();
        if (i % 10000 == 0) (void)registry.render();  // scrapes race the updates
      }
    });
  }
  for (auto& thread : threads) thread.join();

  constexpr double kTotal = static_cast<double>(kThreads) * kPerThread;
  CHECK(counter.value() == kTotal);
  CHECK(halves.value() == kTotal / 2);
  CHECK(gauge.value() == kTotal);  // +3 and -1 alternate: +1 per update on average
  Histogram::Snapshot snap = histogram.snapshot();
  CHECK(snap.count == static_cast<std::uint64_t>(kTotal));
  CHECK(snap.cumulative.front() == static_cast<std::uint64_t>(kTotal / 2));
  CHECK(snap.sum == kTotal / 2 * 0.5 + kTotal / 2 * 2);
  CHECK(labelled.with({"0"}).value() == kTotal / 2);
  CHECK(labelled.with({"1"}).value() == kTotal / 2);
}
