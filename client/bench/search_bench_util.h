// Helpers shared by the search benchmarks (hartonomous-vector-bench,
// hartonomous-hybrid-bench): timing, parallel runs, recall against brute
// force, percentiles and /proc memory figures.
//
// Thread-safety: RunParallel calls fn from `threads` threads at once; the
// other functions are pure or read-only.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include <grpcpp/grpcpp.h>

namespace hartonomous::bench {

using Clock = std::chrono::steady_clock;
// Per query, the row numbers of its answer, nearest first.
using Results = std::vector<std::vector<uint64_t>>;

double Seconds(Clock::time_point a, Clock::time_point b);
// "1,2,8" -> {1, 2, 8}.
std::vector<size_t> ParseList(const std::string& text);
// Prints "<program>: message" on stderr and exits 1.
[[noreturn]] void Die(const std::string& message);
void SetProgramName(const char* name);
void Check(const grpc::Status& s, const char* what);
// Mean recall@k of got against truth.
double Recall(const Results& got, const Results& truth, size_t k);
double Percentile(std::vector<double> v, double p);
// kB values of the "Vm*"/"Rss*" lines of /proc/<pid>/status.
std::map<std::string, double> ProcStatus(const std::string& pid);
// Runs units 0..units-1 on `threads` threads (thread t takes t, t+threads,
// ...); fn(thread, unit) does one unit. Returns the wall time; each unit's
// latency in ms goes to *latency_ms.
double RunParallel(size_t threads, size_t units, const std::function<void(size_t, size_t)>& fn,
                   std::vector<double>* latency_ms);
// Exact top-k of each query among the rows accepted by keep (all if null),
// on every core.
using DistanceFn = std::function<float(const float* a, const float* b)>;
Results BruteForce(const DistanceFn& distance, const std::vector<float>& train, size_t n,
                   const std::vector<float>& queries, size_t nq, size_t dim, size_t k,
                   const std::function<bool(size_t)>& keep);

}  // namespace hartonomous::bench
