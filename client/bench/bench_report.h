// The result of one benchmark run and its two printed forms: a human table and
// one JSON object (for run_ingest_bench.sh).
//
// Thread-safety: plain values; no shared state.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "bench_data.h"

namespace hartonomous::bench {

struct RunResult {
  std::string mode;              // "ingest" (gRPC) or "ingest-reference"
  double wall_s = 0;             // first batch opened .. last batch committed
  std::vector<double> batch_ms;  // per batch: stream open .. Finish returned
  uint64_t commits = 0;          // transactions that carried the atoms
  uint64_t write_requests = 0;   // write requests those commits carried
  uint64_t items_written = 0;    // items those requests wrote
  uint64_t created = 0;
  uint64_t reused = 0;
  bool verified = false;
  std::vector<std::string> errors;                   // verification or RPC failures
  double client_cpu_s = 0;                           // this process, user + system
  double server_cpu_s = -1;                          // hartonomousd, user + system; -1 = unknown
  double machine_busy_s = -1;                        // all CPUs, all processes (/proc/stat)
  nlohmann::json phases = nlohmann::json::object();  // extra per-phase timings
};

// Nearest-rank percentile (p in [0, 100]) of values; 0 when empty.
double NearestRankPercentile(std::vector<double> values, double p);

nlohmann::json ToJson(const DataOptions& options, const AtomPlan& plan, const RunResult& result);
void PrintHuman(const nlohmann::json& report);

// User + system CPU seconds of this process, and of process pid from
// /proc/pid/stat (-1 when unreadable).
double SelfCpuSeconds();
double ProcessCpuSeconds(int pid);
// CPU seconds all processes spent busy (not idle or iowait) on all CPUs since
// boot, from /proc/stat; -1 when unreadable.
double MachineBusySeconds();

}  // namespace hartonomous::bench
