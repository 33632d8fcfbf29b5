#include "server/metrics/metric_families.h"

#include <algorithm>
#include <limits>
#include <utility>

#include "server/metrics/prometheus_text.h"

namespace hartonomous::metrics {
namespace {

Labels Zip(const std::vector<std::string>& names, const std::vector<std::string>& values) {
  Labels labels;
  for (size_t i = 0; i < names.size() && i < values.size(); ++i) {
    labels.emplace_back(names[i], values[i]);
  }
  return labels;
}

}  // namespace

CounterFamily::CounterFamily(std::string name, std::string help,
                             std::vector<std::string> label_names)
    : name_(std::move(name)), help_(std::move(help)), label_names_(std::move(label_names)) {}

void CounterFamily::Add(const std::vector<std::string>& label_values, double delta) {
  MutexLock lock(&mu_);
  values_[label_values] += delta;
}

double CounterFamily::Value(const std::vector<std::string>& label_values) const {
  MutexLock lock(&mu_);
  auto it = values_.find(label_values);
  return it == values_.end() ? 0 : it->second;
}

std::map<std::vector<std::string>, double> CounterFamily::Values() const {
  MutexLock lock(&mu_);
  return values_;
}

void CounterFamily::Render(std::string* out) const {
  AppendFamilyHeader(out, name_, help_, "counter");
  MutexLock lock(&mu_);
  for (const auto& [values, value] : values_) {
    AppendSample(out, name_, Zip(label_names_, values), value);
  }
}

HistogramFamily::HistogramFamily(std::string name, std::string help,
                                 std::vector<std::string> label_names, std::vector<double> bounds)
    : name_(std::move(name)),
      help_(std::move(help)),
      label_names_(std::move(label_names)),
      bounds_(std::move(bounds)) {}

void HistogramFamily::Observe(const std::vector<std::string>& label_values, double value) {
  const size_t bucket = static_cast<size_t>(
      std::lower_bound(bounds_.begin(), bounds_.end(), value) - bounds_.begin());
  MutexLock lock(&mu_);
  Series& series = series_[label_values];
  if (series.buckets.empty()) series.buckets.assign(bounds_.size() + 1, 0);
  ++series.buckets[bucket];
  series.sum += value;
  ++series.count;
}

uint64_t HistogramFamily::Count(const std::vector<std::string>& label_values) const {
  MutexLock lock(&mu_);
  auto it = series_.find(label_values);
  return it == series_.end() ? 0 : it->second.count;
}

void HistogramFamily::Render(std::string* out) const {
  AppendFamilyHeader(out, name_, help_, "histogram");
  MutexLock lock(&mu_);
  for (const auto& [values, series] : series_) {
    const Labels labels = Zip(label_names_, values);
    uint64_t cumulative = 0;
    for (size_t i = 0; i <= bounds_.size(); ++i) {
      cumulative += series.buckets[i];
      Labels with_le = labels;
      with_le.emplace_back(
          "le",
          FormatValue(i < bounds_.size() ? bounds_[i] : std::numeric_limits<double>::infinity()));
      AppendSample(out, name_ + "_bucket", with_le, static_cast<double>(cumulative));
    }
    AppendSample(out, name_ + "_sum", labels, series.sum);
    AppendSample(out, name_ + "_count", labels, static_cast<double>(series.count));
  }
}

}  // namespace hartonomous::metrics
