#include "load_report.h"

#include <cstdio>

#include "base/grpc_code_name.h"

namespace hartonomous::bench {

std::string StatusCodeName(int code) {
  const char* name = GrpcCodeName(code);
  return name != nullptr ? name : "CODE_" + std::to_string(code);
}

nlohmann::json StatsJson(const CallStats& stats, double seconds) {
  nlohmann::json out;
  const LatencyHistogram& h = stats.latency;
  out["calls"] = stats.calls();
  out["ok"] = stats.ok();
  nlohmann::json errors = nlohmann::json::object(), messages = nlohmann::json::object();
  for (const auto& [code, n] : stats.codes) {
    if (code != 0) errors[StatusCodeName(code)] = n;
  }
  for (const auto& [code, message] : stats.first_message) messages[StatusCodeName(code)] = message;
  out["errors"] = errors;
  out["first_error_messages"] = messages;
  out["items"] = stats.items;
  out["calls_per_s"] = seconds > 0 ? static_cast<double>(stats.calls()) / seconds : 0.0;
  out["items_per_s"] = seconds > 0 ? static_cast<double>(stats.items) / seconds : 0.0;
  auto us = [](uint64_t ns) { return static_cast<double>(ns) / 1000.0; };
  out["latency_us"] = {{"min", us(h.min())},
                       {"p50", us(h.ValueAtPercentile(50))},
                       {"p90", us(h.ValueAtPercentile(90))},
                       {"p99", us(h.ValueAtPercentile(99))},
                       {"p99.9", us(h.ValueAtPercentile(99.9))},
                       {"max", us(h.max())},
                       {"mean", h.mean() / 1000.0}};
  nlohmann::json buckets = nlohmann::json::array();
  for (const auto& [value, count] : h.Buckets()) buckets.push_back({value, count});
  out["histogram_ns"] = buckets;
  return out;
}

nlohmann::json ReportJson(const LoadResult& result, const nlohmann::json& options) {
  nlohmann::json report = StatsJson(result.total, result.measured_s);
  report["tool"] = "hartonomous-bench";
  report["options"] = options;
  report["measured_s"] = result.measured_s;
  report["sent"] = result.sent;
  report["completed"] = result.completed;
  report["warmup_calls"] = result.warmup_calls;
  nlohmann::json workloads = nlohmann::json::object();
  for (const auto& [name, stats] : result.by_workload) {
    nlohmann::json w = StatsJson(stats, result.measured_s);
    w.erase("histogram_ns");
    workloads[name] = w;
  }
  report["workloads"] = workloads;
  nlohmann::json intervals = nlohmann::json::array();
  for (const IntervalSample& s : result.intervals) {
    intervals.push_back({{"end_s", s.end_s},
                         {"calls", s.calls},
                         {"calls_per_s", s.calls_per_s},
                         {"p99_us", static_cast<double>(s.p99_ns) / 1000.0},
                         {"errors", s.errors},
                         {"server_rss_kb", s.server_rss_kb},
                         {"server_anon_kb", s.server_anon_kb}});
  }
  report["intervals"] = intervals;
  report["server_rss_kb"] = {{"start", result.server_rss_start_kb},
                             {"end", result.server_rss_end_kb}};
  report["server_anon_kb"] = {{"start", result.server_anon_start_kb},
                              {"end", result.server_anon_end_kb}};
  return report;
}

void PrintReport(const nlohmann::json& report) {
  const auto& o = report["options"];
  std::printf("workload %s: %llu calls in %.2f s at concurrency %d over %d channel(s)%s\n",
              o.value("mix", std::string()).c_str(),
              static_cast<unsigned long long>(report["calls"].get<uint64_t>()),
              report["measured_s"].get<double>(), o.value("concurrency", 0), o.value("channels", 0),
              o.value("rate", 0.0) > 0
                  ? (", open loop at " + std::to_string(o["rate"].get<double>()) + "/s").c_str()
                  : ", closed loop");
  std::printf("  throughput  %.1f calls/s, %.1f items/s\n", report["calls_per_s"].get<double>(),
              report["items_per_s"].get<double>());
  const auto& l = report["latency_us"];
  std::printf("  latency us  min %.0f  p50 %.0f  p90 %.0f  p99 %.0f  p99.9 %.0f  max %.0f\n",
              l["min"].get<double>(), l["p50"].get<double>(), l["p90"].get<double>(),
              l["p99"].get<double>(), l["p99.9"].get<double>(), l["max"].get<double>());
  std::printf("  status      OK %llu",
              static_cast<unsigned long long>(report["ok"].get<uint64_t>()));
  for (const auto& [code, n] : report["errors"].items()) {
    std::printf("  %s %llu", code.c_str(), static_cast<unsigned long long>(n.get<uint64_t>()));
  }
  std::printf("\n");
  for (const auto& [code, message] : report["first_error_messages"].items()) {
    std::printf("  first %s: %s\n", code.c_str(), message.get<std::string>().c_str());
  }
  if (report["workloads"].size() > 1) {
    for (const auto& [name, w] : report["workloads"].items()) {
      std::printf("  %-14s %8.1f calls/s  p50 %.0f us  p99 %.0f us  errors %zu\n", name.c_str(),
                  w["calls_per_s"].get<double>(), w["latency_us"]["p50"].get<double>(),
                  w["latency_us"]["p99"].get<double>(), w["errors"].size());
    }
  }
}

void PrintComparison(const nlohmann::json& before, const nlohmann::json& now) {
  auto row = [](const char* what, double a, double b) {
    std::printf("  %-12s %12.1f %12.1f %8.3fx\n", what, a, b, a > 0 ? b / a : 0.0);
  };
  std::printf("compared with the earlier report:\n  %-12s %12s %12s %9s\n", "", "before", "now",
              "now/before");
  row("calls/s", before.value("calls_per_s", 0.0), now.value("calls_per_s", 0.0));
  for (const char* p : {"p50", "p90", "p99", "p99.9", "max"}) {
    row((std::string(p) + " us").c_str(), before["latency_us"].value(p, 0.0),
        now["latency_us"].value(p, 0.0));
  }
  auto errors = [](const nlohmann::json& r) {
    uint64_t n = 0;
    for (const auto& [code, count] : r["errors"].items()) n += count.get<uint64_t>();
    return static_cast<double>(n);
  };
  row("errors", errors(before), errors(now));
}

}  // namespace hartonomous::bench
