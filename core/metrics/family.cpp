#include "core/metrics/family.h"

#include <algorithm>
#include <stdexcept>
#include <string_view>
#include <tuple>
#include <utility>

#include "core/metrics/exposition.h"

namespace llmeval::metrics {

namespace {

bool is_name_start(char c, bool colon_ok) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (colon_ok && c == ':');
}

// Metric names may contain ':' (recording rules use it); label names may not.
bool is_valid_name(std::string_view name, bool colon_ok) {
  if (name.empty() || !is_name_start(name.front(), colon_ok)) return false;
  return std::all_of(name.begin(), name.end(),
                     [colon_ok](char c) { return is_name_start(c, colon_ok) || (c >= '0' && c <= '9'); });
}

std::string joined(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& name : names) {
    if (!out.empty()) out += ", ";
    out += name;
  }
  return out;
}

void check_names(const std::string& name, const std::vector<std::string>& label_names, MetricType type) {
  if (!is_valid_name(name, /*colon_ok=*/true)) {
    throw std::invalid_argument("invalid metric name '" + name + "'");
  }
  for (std::size_t i = 0; i < label_names.size(); ++i) {
    const std::string& label = label_names[i];
    if (!is_valid_name(label, /*colon_ok=*/false) || label.starts_with("__")) {
      throw std::invalid_argument("metric '" + name + "': invalid label name '" + label + "'");
    }
    if (type == MetricType::kHistogram && label == "le") {
      throw std::invalid_argument("metric '" + name + "': a histogram cannot have a label named 'le'");
    }
    if (std::find(label_names.begin(), label_names.begin() + static_cast<std::ptrdiff_t>(i), label) !=
        label_names.begin() + static_cast<std::ptrdiff_t>(i)) {
      throw std::invalid_argument("metric '" + name + "': label '" + label + "' appears twice");
    }
  }
}

// The TYPE a family of these series declares.
template <typename Series>
constexpr MetricType kTypeOf = MetricType::kCounter;
template <>
constexpr MetricType kTypeOf<Gauge> = MetricType::kGauge;
template <>
constexpr MetricType kTypeOf<Histogram> = MetricType::kHistogram;

// One sample line: name{labels} value.
void append_sample(std::string& out, std::string_view name, const std::vector<std::string>& label_names,
                   const std::vector<std::string>& label_values, double value, std::string_view le = {}) {
  out += name;
  append_labels(out, label_names, label_values, le);
  out += ' ';
  append_value(out, value);
  out += '\n';
}

void append_series(std::string& out, const FamilyBase& family, const std::vector<std::string>& values,
                   const Counter& counter) {
  append_sample(out, family.name(), family.label_names(), values, counter.value());
}

void append_series(std::string& out, const FamilyBase& family, const std::vector<std::string>& values,
                   const Gauge& gauge) {
  append_sample(out, family.name(), family.label_names(), values, gauge.value());
}

// _bucket lines are cumulative and end with le="+Inf", then _sum and _count.
void append_series(std::string& out, const FamilyBase& family, const std::vector<std::string>& values,
                   const Histogram& histogram) {
  Histogram::Snapshot snap = histogram.snapshot();
  const std::vector<double>& bounds = histogram.upper_bounds();
  std::string bucket = family.name() + "_bucket";
  for (std::size_t i = 0; i < bounds.size(); ++i) {
    append_sample(out, bucket, family.label_names(), values, static_cast<double>(snap.cumulative[i]),
                  format_value(bounds[i]));
  }
  append_sample(out, bucket, family.label_names(), values, static_cast<double>(snap.count), "+Inf");
  append_sample(out, family.name() + "_sum", family.label_names(), values, snap.sum);
  append_sample(out, family.name() + "_count", family.label_names(), values, static_cast<double>(snap.count));
}

}  // namespace

const char* to_string(MetricType type) {
  switch (type) {
    case MetricType::kCounter: return "counter";
    case MetricType::kGauge: return "gauge";
    case MetricType::kHistogram: return "histogram";
  }
  return "untyped";
}

FamilyBase::FamilyBase(std::string name, std::string help, std::vector<std::string> label_names, MetricType type)
    : name_(std::move(name)), help_(std::move(help)), label_names_(std::move(label_names)), type_(type) {
  check_names(name_, label_names_, type_);
}

void FamilyBase::render(std::string& out) const {
  out += "# HELP ";
  out += name_;
  out += ' ';
  out += escape_help(help_);
  out += "\n# TYPE ";
  out += name_;
  out += ' ';
  out += to_string(type_);
  out += '\n';
  render_series(out);
}

void FamilyBase::check_label_count(std::size_t count) const {
  if (count == label_names_.size()) return;
  throw std::invalid_argument("metric '" + name_ + "' takes " + std::to_string(label_names_.size()) +
                              " label value(s) (" + joined(label_names_) + "), got " + std::to_string(count));
}

template <typename Series>
Family<Series>::Family(std::string name, std::string help, std::vector<std::string> label_names, Config config)
    : FamilyBase(std::move(name), std::move(help), std::move(label_names), metric_type()),
      config_(std::move(config)) {
  if (FamilyBase::label_names().empty()) only_ = &with({});
}

template <typename Series>
Series& Family<Series>::with(const std::vector<std::string>& label_values) {
  check_label_count(label_values.size());
  std::lock_guard lock(mutex_);
  auto it = series_.find(label_values);
  if (it == series_.end()) {
    it = series_.emplace(std::piecewise_construct, std::forward_as_tuple(label_values), std::forward_as_tuple(config_))
             .first;
    order_.push_back(&*it);
  }
  return it->second;
}

template <typename Series>
Series& Family<Series>::get() {
  if (only_ == nullptr) {
    throw std::invalid_argument("metric '" + name() + "' has labels (" + joined(label_names()) +
                                "): use with(label values)");
  }
  return *only_;
}

template <typename Series>
MetricType Family<Series>::metric_type() {
  return kTypeOf<Series>;
}

template <typename Series>
std::size_t Family<Series>::series_count() const {
  std::lock_guard lock(mutex_);
  return order_.size();
}

template <typename Series>
void Family<Series>::render_series(std::string& out) const {
  std::lock_guard lock(mutex_);
  for (const auto* entry : order_) append_series(out, *this, entry->first, entry->second);
}

template class Family<Counter>;
template class Family<Gauge>;
template class Family<Histogram>;

}  // namespace llmeval::metrics
