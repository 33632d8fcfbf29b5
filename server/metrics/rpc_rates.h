// RpcRateWindow: recent RPC rates per method, from the cumulative counts of
// hartonomous_rpc_requests_total, for the status page.
//
// Sample() records the counts at a time and returns calls and errors per
// second over the interval from a base sample to it: the newest sample at
// or before the window's start, or, when none is that old, the daemon's
// start (counts 0). So the rates are over the time since the start until
// the daemon has run for a window, and over about a window after that (more
// when the page was not read for a while: the interval is reported).
// A sample less than a 32nd of the window after the previous one is used
// but not kept, so frequent readers do not shorten the interval.
//
// Memory: at most kMaxSamples samples of one count per method seen.
//
// Thread-safety: thread-safe.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <string>
#include <vector>

#include "base/mutex.h"
#include "base/thread_annotations.h"

namespace hartonomous::metrics {

struct MethodRate {
  std::string method;   // "/hartonomous.v1.AtomService/IngestAtom"
  uint64_t calls = 0;   // in the interval
  uint64_t errors = 0;  // of them, not OK
  double calls_per_second = 0;
  double errors_per_second = 0;
};

struct RpcRates {
  double interval_seconds = 0;  // what the rates are over
  double calls_per_second = 0;  // all methods
  double errors_per_second = 0;
  std::vector<MethodRate> methods;  // the methods with calls in the interval, busiest first
};

// Cumulative counts per method: {calls, errors}.
using MethodCounts = std::map<std::string, std::pair<uint64_t, uint64_t>>;

// Sums hartonomous_rpc_requests_total's {method, code} tuples per method;
// every code but "OK" counts as an error.
MethodCounts CountsByMethod(const std::map<std::vector<std::string>, double>& by_method_and_code);

class RpcRateWindow {
 public:
  static constexpr size_t kMaxSamples = 64;

  // started_us: when the counts were zero (the daemon's start).
  RpcRateWindow(int64_t started_us, int64_t window_us)
      : started_us_(started_us), window_us_(window_us) {}

  // Records counts taken at now_us and returns the rates ending there.
  // REQUIRES: now_us not before the previous call's.
  RpcRates Sample(int64_t now_us, MethodCounts counts) EXCLUDES(mu_);

 private:
  struct Snapshot {
    int64_t at_us = 0;
    MethodCounts counts;
  };
  const int64_t started_us_;
  const int64_t window_us_;
  Mutex mu_;
  std::deque<Snapshot> samples_ GUARDED_BY(mu_);
};

}  // namespace hartonomous::metrics
