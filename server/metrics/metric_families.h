// CounterFamily and HistogramFamily: Prometheus metric families whose
// samples are kept in memory, one per distinct label-value tuple, and
// rendered in the text exposition format. The label names are fixed at
// construction; a call passes the values in the same order.
//
// Memory: one entry per distinct label-value tuple; callers use label
// values from small fixed sets (method names, status codes).
//
// Thread-safety: thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "base/mutex.h"
#include "base/thread_annotations.h"

namespace hartonomous::metrics {

class CounterFamily {
 public:
  CounterFamily(std::string name, std::string help, std::vector<std::string> label_names);
  void Add(const std::vector<std::string>& label_values, double delta = 1) EXCLUDES(mu_);
  // The value of one tuple; 0 when never added to.
  double Value(const std::vector<std::string>& label_values) const EXCLUDES(mu_);
  // Every tuple's value, in label-value order.
  std::map<std::vector<std::string>, double> Values() const EXCLUDES(mu_);
  void Render(std::string* out) const EXCLUDES(mu_);

 private:
  const std::string name_;
  const std::string help_;
  const std::vector<std::string> label_names_;
  mutable Mutex mu_;
  std::map<std::vector<std::string>, double> values_ GUARDED_BY(mu_);
};

class HistogramFamily {
 public:
  // bounds: the buckets' upper bounds, increasing (+Inf is implicit).
  HistogramFamily(std::string name, std::string help, std::vector<std::string> label_names,
                  std::vector<double> bounds);
  void Observe(const std::vector<std::string>& label_values, double value) EXCLUDES(mu_);
  // Observations of one tuple; 0 when none.
  uint64_t Count(const std::vector<std::string>& label_values) const EXCLUDES(mu_);
  void Render(std::string* out) const EXCLUDES(mu_);

 private:
  struct Series {
    std::vector<uint64_t> buckets;  // per bound, not cumulative; last = +Inf
    double sum = 0;
    uint64_t count = 0;
  };
  const std::string name_;
  const std::string help_;
  const std::vector<std::string> label_names_;
  const std::vector<double> bounds_;
  mutable Mutex mu_;
  std::map<std::vector<std::string>, Series> series_ GUARDED_BY(mu_);
};

}  // namespace hartonomous::metrics
