// Family: one metric name with its HELP text, type and label names, and the series created under
// it, one per distinct tuple of label values. CounterFamily, GaugeFamily and HistogramFamily are
// Family<Counter>, Family<Gauge> and Family<Histogram>.
//
// The Registry creates families and owns them; a family owns its series. References returned
// by with() and get() stay valid for the family's (the registry's) life, so callers look a
// series up once and cache it: with() takes the family's mutex, the series' own updates do not.
// All members are safe to call from any thread. with() and get() throw std::invalid_argument
// when the number of label values does not match the family's label names.
#pragma once

#include <cstddef>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "core/metrics/series.h"

namespace llmeval::metrics {

enum class MetricType { kCounter, kGauge, kHistogram };

// The TYPE line's word: "counter", "gauge", "histogram".
const char* to_string(MetricType type);

// What every family has, whatever its series type; the Registry holds families through it.
class FamilyBase {
 public:
  // Throws std::invalid_argument on a name that is not [a-zA-Z_:][a-zA-Z0-9_:]*, a label name
  // that is not [a-zA-Z_][a-zA-Z0-9_]* or starts with "__" (reserved by Prometheus), a repeated
  // label name, or a histogram label called "le".
  FamilyBase(std::string name, std::string help, std::vector<std::string> label_names, MetricType type);
  virtual ~FamilyBase() = default;
  FamilyBase(const FamilyBase&) = delete;
  FamilyBase& operator=(const FamilyBase&) = delete;

  const std::string& name() const { return name_; }
  const std::string& help() const { return help_; }
  const std::vector<std::string>& label_names() const { return label_names_; }
  MetricType type() const { return type_; }

  // Appends the `# HELP` and `# TYPE` lines, then every series in creation order. A labelled
  // family with no series yet still shows its HELP and TYPE lines.
  void render(std::string& out) const;

 protected:
  virtual void render_series(std::string& out) const = 0;
  void check_label_count(std::size_t count) const;

 private:
  std::string name_;
  std::string help_;
  std::vector<std::string> label_names_;
  MetricType type_;
};

template <typename Series>
class Family final : public FamilyBase {
 public:
  using Config = typename Series::Config;

  // An unlabelled family creates its one series here, so it is rendered (as 0) from the start.
  Family(std::string name, std::string help, std::vector<std::string> label_names, Config config);

  // The series for these label values (in label_names() order), created on first use.
  Series& with(const std::vector<std::string>& label_values);
  // The one series of an unlabelled family, without taking the lock. Throws
  // std::invalid_argument on a labelled family.
  Series& get();

  const Config& config() const { return config_; }
  std::size_t series_count() const;
  static MetricType metric_type();

 protected:
  void render_series(std::string& out) const override;

 private:
  using SeriesMap = std::map<std::vector<std::string>, Series>;

  Config config_;
  mutable std::mutex mutex_;  // guards series_ and order_, not the series' values
  SeriesMap series_;          // map nodes never move, which is what keeps references valid
  std::vector<const typename SeriesMap::value_type*> order_;  // creation order, for render
  Series* only_ = nullptr;                                     // set when there are no labels
};

// Defined and instantiated once, in family.cpp.
extern template class Family<Counter>;
extern template class Family<Gauge>;
extern template class Family<Histogram>;

using CounterFamily = Family<Counter>;
using GaugeFamily = Family<Gauge>;
using HistogramFamily = Family<Histogram>;

}  // namespace llmeval::metrics
