#include "search_bench_util.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

namespace hartonomous::bench {

double Seconds(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

std::vector<size_t> ParseList(const std::string& text) {
  std::vector<size_t> out;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) out.push_back(std::stoul(item));
  return out;
}

namespace {
const char* program_name = "bench";
}  // namespace

void SetProgramName(const char* name) { program_name = name; }

[[noreturn]] void Die(const std::string& message) {
  std::fprintf(stderr, "%s: %s\n", program_name, message.c_str());
  std::exit(1);
}

void Check(const grpc::Status& s, const char* what) {
  if (!s.ok()) Die(std::string(what) + ": " + s.error_message());
}

double Recall(const Results& got, const Results& truth, size_t k) {
  size_t hits = 0;
  for (size_t q = 0; q < truth.size(); ++q) {
    std::set<uint64_t> t(truth[q].begin(), truth[q].begin() + std::min(k, truth[q].size()));
    for (size_t i = 0; i < std::min(k, got[q].size()); ++i) hits += t.count(got[q][i]);
  }
  return double(hits) / double(truth.size() * k);
}

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p * v.size()))];
}

std::map<std::string, double> ProcStatus(const std::string& pid) {
  std::map<std::string, double> out;
  std::ifstream in("/proc/" + pid + "/status");
  std::string line;
  while (std::getline(in, line)) {
    auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string key = line.substr(0, colon);
    if (key.rfind("Vm", 0) != 0 && key.rfind("Rss", 0) != 0) continue;
    out[key] = std::atof(line.c_str() + colon + 1);
  }
  return out;
}

double RunParallel(size_t threads, size_t units, const std::function<void(size_t, size_t)>& fn,
                   std::vector<double>* latency_ms) {
  latency_ms->assign(units, 0);
  std::vector<std::thread> pool;
  auto s0 = Clock::now();
  for (size_t t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      for (size_t u = t; u < units; u += threads) {
        auto a = Clock::now();
        fn(t, u);
        (*latency_ms)[u] = Seconds(a, Clock::now()) * 1000;
      }
    });
  }
  for (auto& th : pool) th.join();
  return Seconds(s0, Clock::now());
}

Results BruteForce(const DistanceFn& distance, const std::vector<float>& train, size_t n,
                   const std::vector<float>& queries, size_t nq, size_t dim, size_t k,
                   const std::function<bool(size_t)>& keep) {
  Results truth(nq);
  std::vector<double> unused;
  const size_t threads = std::max(1u, std::thread::hardware_concurrency());
  RunParallel(threads, nq, [&](size_t, size_t q) {
    std::vector<std::pair<float, uint64_t>> all;
    all.reserve(n);
    for (size_t i = 0; i < n; ++i) {
      if (keep && !keep(i)) continue;
      all.push_back({distance(&queries[q * dim], &train[i * dim]), i});
    }
    const size_t kk = std::min(k, all.size());
    std::partial_sort(all.begin(), all.begin() + kk, all.end());
    for (size_t i = 0; i < kk; ++i) truth[q].push_back(all[i].second);
  }, &unused);
  return truth;
}

}  // namespace hartonomous::bench
