// Registry: owns every metric family of a process (or of one run) and renders them all in the
// Prometheus text exposition format 0.0.4, for `serve`'s /metrics and `run --metrics-file`.
//
// Families are rendered in registration order, their series in creation order, so the output
// is stable and diffable. Registering a name again with the same type, label names (and, for a
// histogram, buckets) returns the family already there, which lets several components declare
// the metrics they share; anything else under a taken name throws std::logic_error. Bad names
// and bucket bounds throw std::invalid_argument (a std::logic_error too: both are caller bugs).
//
// Families live as long as the registry and never move: references to them and to their series
// may be cached. Safe to use from any thread; render() takes each family's lock in turn, so a
// scrape never blocks an inc() or observe() on a cached series.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/metrics/family.h"
#include "core/metrics/series.h"

namespace llmeval::metrics {

class Registry {
 public:
  Registry();
  ~Registry();
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  CounterFamily& counter(std::string name, std::string help, std::vector<std::string> label_names = {});
  GaugeFamily& gauge(std::string name, std::string help, std::vector<std::string> label_names = {});
  // `bucket_upper_bounds` goes through checked_buckets(); re-registration compares the result.
  HistogramFamily& histogram(std::string name, std::string help, std::vector<std::string> label_names = {},
                             std::vector<double> bucket_upper_bounds = default_latency_buckets());

  // Every family: `# HELP`, `# TYPE`, then its samples; each line ends with '\n'.
  std::string render() const;

 private:
  template <typename F>
  F& add(std::string name, std::string help, std::vector<std::string> label_names, typename F::Config config);

  mutable std::mutex mutex_;                           // guards families_ and by_name_
  std::vector<std::unique_ptr<FamilyBase>> families_;  // registration order
  std::map<std::string, FamilyBase*, std::less<>> by_name_;
};

}  // namespace llmeval::metrics
