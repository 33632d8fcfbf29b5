// ServerMetrics: every metric hartonomousd exports on /metrics. Event
// metrics (RPCs, group commits) are recorded as they happen; state metrics
// (LMDB, collections, dedup, models, inference logs) are read by collectors
// at scrape time, so a scrape always shows the current state.
//
// Families (all prefixed hartonomous_):
//   rpc_requests_total{method,code}            counter
//   rpc_duration_seconds{method,code}          histogram
//   group_commit_requests                      histogram (requests per commit)
//   group_commit_duration_seconds              histogram
//   and what the collectors add (server/metrics/state_metrics.h).
//
// Thread-safety: thread-safe. AddCollector before the first Render.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "server/metrics/metric_families.h"

namespace hartonomous::metrics {

class ServerMetrics {
 public:
  // Appends whole families to the exposition; one that cannot read its
  // state appends nothing, so the scrape still shows the others.
  using Collector = std::function<void(std::string* out)>;

  ServerMetrics();

  // method: the full gRPC method ("/pkg.Service/Method"); code: the status
  // code's name ("OK", "NOT_FOUND", ...).
  void RecordRpc(const std::string& method, const std::string& code, double seconds);
  void RecordCommit(size_t requests, double seconds);
  void AddCollector(Collector collector);

  // The whole exposition, event families first, then each collector's.
  std::string Render() const;

  const CounterFamily& rpc_requests() const { return rpc_requests_; }
  const HistogramFamily& commit_requests() const { return commit_requests_; }

 private:
  CounterFamily rpc_requests_;
  HistogramFamily rpc_duration_;
  HistogramFamily commit_requests_;
  HistogramFamily commit_duration_;
  std::vector<Collector> collectors_;
};

}  // namespace hartonomous::metrics
