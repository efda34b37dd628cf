#include "core/metrics/registry.h"

#include <stdexcept>
#include <utility>

#include "core/metrics/exposition.h"

namespace llmeval::metrics {

namespace {

// "counter {provider, code}" or "histogram {provider} buckets [0.1, 1]", for conflict messages.
std::string describe(MetricType type, const std::vector<std::string>& label_names, const std::vector<double>* bounds) {
  std::string out = to_string(type);
  out += " {";
  for (std::size_t i = 0; i < label_names.size(); ++i) out += (i > 0 ? ", " : "") + label_names[i];
  out += '}';
  if (bounds != nullptr) {
    out += " buckets [";
    for (std::size_t i = 0; i < bounds->size(); ++i) out += (i > 0 ? ", " : "") + format_value((*bounds)[i]);
    out += ']';
  }
  return out;
}

const std::vector<double>* bounds_of(const FamilyBase& family) {
  const auto* histogram = dynamic_cast<const HistogramFamily*>(&family);
  return histogram != nullptr ? &histogram->config() : nullptr;
}

// Only a histogram's config has anything to show.
template <typename Config>
const std::vector<double>* config_bounds(const Config&) {
  return nullptr;
}
const std::vector<double>* config_bounds(const Histogram::Config& bounds) { return &bounds; }

}  // namespace

Registry::Registry() = default;
Registry::~Registry() = default;

CounterFamily& Registry::counter(std::string name, std::string help, std::vector<std::string> label_names) {
  return add<CounterFamily>(std::move(name), std::move(help), std::move(label_names), {});
}

GaugeFamily& Registry::gauge(std::string name, std::string help, std::vector<std::string> label_names) {
  return add<GaugeFamily>(std::move(name), std::move(help), std::move(label_names), {});
}

HistogramFamily& Registry::histogram(std::string name, std::string help, std::vector<std::string> label_names,
                                     std::vector<double> bucket_upper_bounds) {
  return add<HistogramFamily>(std::move(name), std::move(help), std::move(label_names),
                              checked_buckets(std::move(bucket_upper_bounds)));
}

template <typename F>
F& Registry::add(std::string name, std::string help, std::vector<std::string> label_names, typename F::Config config) {
  std::lock_guard lock(mutex_);
  if (auto it = by_name_.find(name); it != by_name_.end()) {
    // dynamic_cast doubles as the type check: a GaugeFamily is not a CounterFamily.
    auto* existing = dynamic_cast<F*>(it->second);
    if (existing != nullptr && existing->label_names() == label_names && existing->config() == config) {
      return *existing;  // the first HELP text stays; a shared metric has one meaning
    }
    const FamilyBase& taken = *it->second;
    throw std::logic_error("metric '" + name + "' is already registered as " +
                           describe(taken.type(), taken.label_names(), bounds_of(taken)) +
                           "; cannot register it as " + describe(F::metric_type(), label_names, config_bounds(config)));
  }
  auto family = std::make_unique<F>(std::move(name), std::move(help), std::move(label_names), std::move(config));
  F& added = *family;
  by_name_.emplace(added.name(), &added);
  families_.push_back(std::move(family));
  return added;
}

std::string Registry::render() const {
  std::string out;
  std::lock_guard lock(mutex_);
  for (const auto& family : families_) family->render(out);
  return out;
}

}  // namespace llmeval::metrics
