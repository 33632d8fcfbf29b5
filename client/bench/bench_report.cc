#include "bench_report.h"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>

namespace hartonomous::bench {

double NearestRankPercentile(std::vector<double> values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const double rank = std::ceil(p / 100.0 * static_cast<double>(values.size()));
  const size_t index = rank < 1 ? 0 : static_cast<size_t>(rank) - 1;
  return values[std::min(index, values.size() - 1)];
}

nlohmann::json ToJson(const DataOptions& options, const AtomPlan& plan, const RunResult& result) {
  const double wall = result.wall_s > 0 ? result.wall_s : 1e-9;
  const double commits = static_cast<double>(result.commits);
  nlohmann::json j;
  j["mode"] = result.mode;
  j["atoms"] = plan.atoms;
  j["atom_bytes"] = options.atom_bytes;
  j["clients"] = options.clients;
  j["batch"] = options.batch;
  j["dup_fraction"] = options.dup_fraction;
  j["distinct"] = plan.contents.size();
  j["corpus_files"] = plan.source_files.size();
  j["corpus_bytes"] = plan.corpus_bytes;
  j["content_bytes"] = plan.content_bytes;
  j["wall_s"] = result.wall_s;
  j["atoms_per_s"] = static_cast<double>(plan.atoms) / wall;
  j["mb_per_s"] = static_cast<double>(plan.content_bytes) / 1e6 / wall;  // MB = 10^6 bytes
  j["batches"] = result.batch_ms.size();
  j["batch_p50_ms"] = NearestRankPercentile(result.batch_ms, 50);
  j["batch_p99_ms"] = NearestRankPercentile(result.batch_ms, 99);
  j["batch_max_ms"] = NearestRankPercentile(result.batch_ms, 100);
  j["commits"] = result.commits;
  j["commits_per_s"] = commits / wall;
  j["atoms_per_commit"] = commits > 0 ? static_cast<double>(result.items_written) / commits : 0.0;
  j["requests_per_commit"] =
      commits > 0 ? static_cast<double>(result.write_requests) / commits : 0.0;
  j["write_requests"] = result.write_requests;
  j["items_written"] = result.items_written;
  j["created"] = result.created;
  j["reused"] = result.reused;
  j["verified"] = result.verified;
  j["errors"] = result.errors;
  j["client_cpu_s"] = result.client_cpu_s;
  j["server_cpu_s"] = result.server_cpu_s;
  j["machine_busy_s"] = result.machine_busy_s;
  // CPU that other processes took from the two measured ones during the run.
  double measured = result.client_cpu_s + std::max(0.0, result.server_cpu_s);
  j["other_cpu_s"] =
      result.machine_busy_s >= 0 ? std::max(0.0, result.machine_busy_s - measured) : -1.0;
  j["phases"] = result.phases;
  return j;
}

void PrintHuman(const nlohmann::json& r) {
  std::printf("%-20s %s\n", "mode", r["mode"].get<std::string>().c_str());
  std::printf("%-20s %llu atoms x %llu B, %d client(s), batch %llu, dup %.2f (%llu distinct)\n",
              "workload", r["atoms"].get<unsigned long long>(),
              r["atom_bytes"].get<unsigned long long>(), r["clients"].get<int>(),
              r["batch"].get<unsigned long long>(), r["dup_fraction"].get<double>(),
              r["distinct"].get<unsigned long long>());
  std::printf("%-20s %llu files, %llu bytes\n", "corpus",
              r["corpus_files"].get<unsigned long long>(),
              r["corpus_bytes"].get<unsigned long long>());
  std::printf("%-20s %.3f\n", "wall s", r["wall_s"].get<double>());
  std::printf("%-20s %.0f\n", "atoms/s", r["atoms_per_s"].get<double>());
  std::printf("%-20s %.1f\n", "MB/s (content)", r["mb_per_s"].get<double>());
  std::printf("%-20s %.2f / %.2f / %.2f (%llu batches)\n", "batch p50/p99/max ms",
              r["batch_p50_ms"].get<double>(), r["batch_p99_ms"].get<double>(),
              r["batch_max_ms"].get<double>(), r["batches"].get<unsigned long long>());
  std::printf("%-20s %llu (%.1f/s)\n", "commits", r["commits"].get<unsigned long long>(),
              r["commits_per_s"].get<double>());
  std::printf("%-20s %.1f atoms, %.2f requests\n", "per commit",
              r["atoms_per_commit"].get<double>(), r["requests_per_commit"].get<double>());
  std::printf("%-20s %llu created, %llu reused\n", "result", r["created"].get<unsigned long long>(),
              r["reused"].get<unsigned long long>());
  std::printf("%-20s client %.2f s, server %.2f s, other processes %.2f s\n", "cpu",
              r["client_cpu_s"].get<double>(), r["server_cpu_s"].get<double>(),
              r["other_cpu_s"].get<double>());
  if (!r["phases"].empty()) std::printf("%-20s %s\n", "phases", r["phases"].dump().c_str());
  std::printf("%-20s %s\n", "verified", r["verified"].get<bool>() ? "yes" : "NO");
  for (const auto& error : r["errors"]) {
    std::printf("  error: %s\n", error.get<std::string>().c_str());
  }
}

double SelfCpuSeconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
         static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

double ProcessCpuSeconds(int pid) {
  if (pid <= 0) return -1;
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  // Fields after the parenthesised command name; utime and stime are the
  // 14th and 15th fields overall, the 12th and 13th after ")".
  const size_t close = stat.rfind(')');
  if (close == std::string::npos) return -1;
  std::istringstream fields(stat.substr(close + 1));
  std::string field;
  unsigned long long utime = 0, stime = 0;
  for (int i = 1; i <= 13 && fields >> field; ++i) {
    if (i == 12) utime = std::stoull(field);
    if (i == 13) stime = std::stoull(field);
  }
  const long ticks = sysconf(_SC_CLK_TCK);
  return static_cast<double>(utime + stime) / static_cast<double>(ticks > 0 ? ticks : 100);
}

double MachineBusySeconds() {
  std::ifstream in("/proc/stat");
  std::string label;
  if (!(in >> label) || label != "cpu") return -1;
  // user nice system idle iowait irq softirq steal ...
  unsigned long long value = 0, busy = 0;
  for (int i = 0; i < 8 && in >> value; ++i) {
    if (i != 3 && i != 4) busy += value;
  }
  const long ticks = sysconf(_SC_CLK_TCK);
  return static_cast<double>(busy) / static_cast<double>(ticks > 0 ? ticks : 100);
}

}  // namespace hartonomous::bench
