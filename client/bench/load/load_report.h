// The report of a hartonomous-bench run: one JSON object (written with
// --json-out, read back by --compare) and its human summary.
//
// Latencies are in microseconds in "latency_us" (min, p50, p90, p99, p99.9,
// max, mean) and the whole histogram is kept in "histogram_ns" as
// [highest value of the bucket, count] pairs, so a later run can be compared
// at any percentile. Errors are counted by gRPC status code name.
//
// Thread-safety: plain functions.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "load_driver.h"

namespace hartonomous::bench {

// "OK", "DEADLINE_EXCEEDED", ... for a grpc::StatusCode value.
std::string StatusCodeName(int code);

nlohmann::json StatsJson(const CallStats& stats, double seconds);
nlohmann::json ReportJson(const LoadResult& result, const nlohmann::json& options);
void PrintReport(const nlohmann::json& report);
// Prints this run next to an earlier report: throughput and latency
// percentiles with their ratios (now / before).
void PrintComparison(const nlohmann::json& before, const nlohmann::json& now);

}  // namespace hartonomous::bench
