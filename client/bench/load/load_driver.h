// RunLoad: drives workloads against a server at a given concurrency, closed
// loop (a new request as soon as one finishes) or open loop (requests due at
// a fixed rate, latency measured from the intended send time), bounded by a
// request count and/or a duration, with a warm-up whose requests are sent
// but not measured.
//
// One dispatch thread starts every call on the callback API and never waits
// for one; completions arrive on gRPC's threads and only update counters.
// Every call carries a deadline, so a run always ends.
//
// Thread-safety: RunLoad is called by one thread; it owns every thread and
// call it starts and returns after all of them finished.
#pragma once

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "latency_histogram.h"
#include "workload.h"
#include "workload_mix.h"

namespace hartonomous::bench {

struct LoadOptions {
  int concurrency = 1;     // calls in flight at most
  uint64_t requests = 0;   // measured requests to send; 0 = until duration_s
  double duration_s = 0;   // measured seconds; 0 = until requests
  double warmup_s = 0;     // seconds of unmeasured requests first
  double rate = 0;         // requests/s, open loop; 0 = closed loop
  int timeout_ms = 10000;  // deadline of every call
  double interval_s = 0;   // > 0: a sample of throughput and p99 this often
  int server_pid = 0;      // > 0: the server's RSS in every sample
};

struct CallStats {
  LatencyHistogram latency;       // ns, every measured call
  std::map<int, uint64_t> codes;  // grpc::StatusCode -> calls
  std::map<int, std::string> first_message;
  uint64_t items = 0;  // items the successful calls carried

  uint64_t calls() const { return latency.count(); }
  uint64_t ok() const;
  void Add(const CallStats& other);
};

struct IntervalSample {
  double end_s = 0;  // since the measured start
  uint64_t calls = 0;
  double calls_per_s = 0;
  uint64_t p99_ns = 0;
  uint64_t errors = 0;
  double server_rss_kb = -1;   // VmRSS: anonymous + file-backed (LMDB's map)
  double server_anon_kb = -1;  // RssAnon: the heap, what a leak grows
};

struct LoadResult {
  double measured_s = 0;   // measured start .. last measured completion
  uint64_t sent = 0;       // every call started, warm-up included
  uint64_t completed = 0;  // every call that reported, warm-up included
  uint64_t warmup_calls = 0;
  CallStats total;
  std::map<std::string, CallStats> by_workload;
  std::vector<IntervalSample> intervals;
  double server_rss_start_kb = -1;
  double server_rss_end_kb = -1;
  double server_anon_start_kb = -1;
  double server_anon_end_kb = -1;
};

// channels: one per connection; call i uses channels[i % size]. workloads
// are indexed like mix.entries().
LoadResult RunLoad(const LoadOptions& options, const WorkloadMix& mix,
                   const std::vector<Workload*>& workloads,
                   const std::vector<std::shared_ptr<grpc::Channel>>& channels);

// A "Name:" line of /proc/pid/status in kB (VmRSS, RssAnon, ...); -1 when
// unreadable.
double ProcessStatusKb(int pid, const std::string& name);

}  // namespace hartonomous::bench
