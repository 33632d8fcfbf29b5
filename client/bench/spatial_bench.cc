// hartonomous-spatial-bench: radius-query throughput of the spatial index
// kinds on N random 3D points, all measured in the same run: the R-tree
// ("rtree") against the exact linear scan ("scan"). Every R-tree answer is
// checked against the scan's on a sample of queries.
//
//   hartonomous-spatial-bench [--points 1000000] [--queries 2000]
//                             [--selectivity 0.001] [--runs 3] [--json]
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <iostream>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "index/spatial/spatial_index.h"

using namespace hartonomous;
using namespace hartonomous::index;
using Clock = std::chrono::steady_clock;

namespace {

struct Options {
  size_t points = 1000000;
  size_t queries = 2000;
  double selectivity = 0.001;  // expected fraction of points per radius query
  int runs = 3;
  bool json = false;
};

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

int Usage() {
  std::cerr << "usage: hartonomous-spatial-bench [--points N] [--queries N] "
               "[--selectivity F] [--runs N] [--json]\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> const char* { return i + 1 < argc ? argv[++i] : nullptr; };
    const char* v = nullptr;
    if (a == "--json")
      o.json = true;
    else if (a == "--points" && (v = next()))
      o.points = std::strtoull(v, nullptr, 10);
    else if (a == "--queries" && (v = next()))
      o.queries = std::strtoull(v, nullptr, 10);
    else if (a == "--selectivity" && (v = next()))
      o.selectivity = std::atof(v);
    else if (a == "--runs" && (v = next()))
      o.runs = std::atoi(v);
    else
      return Usage();
  }
  if (o.points == 0 || o.queries == 0 || o.runs <= 0 || !(o.selectivity > 0 && o.selectivity < 1)) {
    return Usage();
  }

  // Points uniform in the unit cube; a ball of radius r holds about
  // (4/3) pi r^3 of them (queries are kept away from the faces).
  std::mt19937_64 rng(20261124);
  std::uniform_real_distribution<double> u(0, 1);
  std::vector<std::pair<uint64_t, Point3>> points;
  points.reserve(o.points);
  for (size_t i = 0; i < o.points; ++i) points.emplace_back(i + 1, Point3{u(rng), u(rng), u(rng)});
  const double radius = std::cbrt(o.selectivity * 3.0 / (4.0 * M_PI));
  std::uniform_real_distribution<double> inner(radius, 1 - radius);
  std::vector<Point3> queries;
  for (size_t i = 0; i < o.queries; ++i)
    queries.push_back(Point3{inner(rng), inner(rng), inner(rng)});

  auto rtree = std::move(MakeSpatialIndex("rtree")).value();
  auto scan = std::move(MakeSpatialIndex("scan")).value();
  auto t0 = Clock::now();
  if (!rtree->Assign(points).ok()) return 1;
  const double build_s = std::chrono::duration<double>(Clock::now() - t0).count();
  if (!scan->Assign(points).ok()) return 1;

  // Correctness on a sample: identical answers.
  size_t hits_total = 0;
  for (size_t i = 0; i < std::min<size_t>(50, queries.size()); ++i) {
    auto a = rtree->WithinRadius(queries[i], radius, 0);
    auto b = scan->WithinRadius(queries[i], radius, 0);
    if (!a.ok() || !b.ok() || *a != *b) {
      std::cerr << "mismatch on query " << i << "\n";
      return 3;
    }
    hits_total += a->size();
  }
  const double mean_hits = static_cast<double>(hits_total) / std::min<size_t>(50, queries.size());

  auto measure = [&](SpatialIndex& index, size_t n) {
    std::vector<double> qps;
    for (int r = 0; r < o.runs; ++r) {
      size_t found = 0;
      auto start = Clock::now();
      for (size_t i = 0; i < n; ++i) found += index.WithinRadius(queries[i], radius, 0)->size();
      const double s = std::chrono::duration<double>(Clock::now() - start).count();
      qps.push_back(static_cast<double>(n) / s);
      if (found == 0) std::cerr << "";
    }
    return Median(qps);
  };
  const double rtree_qps = measure(*rtree, queries.size());
  // The scan is slow: measure it on fewer queries.
  const double scan_qps = measure(*scan, std::max<size_t>(10, queries.size() / 50));

  nlohmann::json out = {
      {"points", o.points},     {"queries", o.queries},   {"selectivity", o.selectivity},
      {"radius", radius},       {"mean_hits", mean_hits}, {"rtree_build_s", build_s},
      {"rtree_qps", rtree_qps}, {"scan_qps", scan_qps},   {"speedup", rtree_qps / scan_qps},
      {"runs", o.runs}};
  if (o.json) {
    std::cout << out.dump() << "\n";
  } else {
    std::cout << "points " << o.points << ", radius " << radius << " (selectivity " << o.selectivity
              << ", " << mean_hits << " hits/query)\n"
              << "rtree build (packed) " << build_s << " s\n"
              << "rtree " << rtree_qps << " queries/s\n"
              << "scan  " << scan_qps << " queries/s\n"
              << "speedup " << rtree_qps / scan_qps << "x\n";
  }
  return 0;
}
