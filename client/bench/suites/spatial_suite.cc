// hartonomous-bench spatial-suite: radius-query throughput of the spatial
// index kinds on N random 3D points, all measured in the same run, in
// process: the R-tree ("rtree") against the exact linear scan ("scan").
// Every R-tree answer is checked against the scan's on a sample of queries.
//
//   hartonomous-bench spatial-suite [--points 1000000] [--nq 2000]
//       [--selectivity 0.001] [--runs 3] [--json-out FILE] [--json]
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <iostream>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "../bench_report.h"
#include "../search_bench_util.h"
#include "flag_sets.h"
#include "index/spatial/spatial_index.h"
#include "suite_report.h"
#include "suites.h"

namespace hartonomous::bench {
namespace {

using index::MakeSpatialIndex;
using index::Point3;
using index::SpatialIndex;

std::vector<FlagSpec> Flags() {
  return JoinFlags({{{"points", "1000000", "random points in the unit cube"},
                     {"nq", "2000", "radius queries"},
                     {"selectivity", "0.001", "expected fraction of the points per query"},
                     {"runs", "3", "runs; the median is reported"}},
                    ReportFlags()});
}

int Run(const BenchFlags& flags) {
  const auto points_n = static_cast<size_t>(flags.IntIn("points", 1, int64_t{1} << 32));
  const auto nq = static_cast<size_t>(flags.IntIn("nq", 1, int64_t{1} << 30));
  const double selectivity = flags.DoubleIn("selectivity", 1e-12, 0.999);
  const auto runs = static_cast<int>(flags.IntIn("runs", 1, 1000));

  // Points uniform in the unit cube; a ball of radius r holds about
  // (4/3) pi r^3 of them (queries are kept away from the faces).
  std::mt19937_64 rng(20261124);
  std::uniform_real_distribution<double> u(0, 1);
  std::vector<std::pair<uint64_t, Point3>> points;
  points.reserve(points_n);
  for (size_t i = 0; i < points_n; ++i) points.emplace_back(i + 1, Point3{u(rng), u(rng), u(rng)});
  const double radius = std::cbrt(selectivity * 3.0 / (4.0 * M_PI));
  std::uniform_real_distribution<double> inner(radius, 1 - radius);
  std::vector<Point3> queries;
  for (size_t i = 0; i < nq; ++i) queries.push_back(Point3{inner(rng), inner(rng), inner(rng)});

  auto rtree = std::move(MakeSpatialIndex("rtree")).value();
  auto scan = std::move(MakeSpatialIndex("scan")).value();
  auto t0 = Clock::now();
  if (!rtree->Assign(points).ok()) Die("R-tree load failed");
  const double build_s = std::chrono::duration<double>(Clock::now() - t0).count();
  if (!scan->Assign(points).ok()) Die("scan load failed");

  // Correctness on a sample: identical answers.
  size_t hits_total = 0;
  for (size_t i = 0; i < std::min<size_t>(50, queries.size()); ++i) {
    auto a = rtree->WithinRadius(queries[i], radius, 0);
    auto b = scan->WithinRadius(queries[i], radius, 0);
    if (!a.ok() || !b.ok() || *a != *b) Die("R-tree and scan differ on query " + std::to_string(i));
    hits_total += a->size();
  }
  const double mean_hits = static_cast<double>(hits_total) / std::min<size_t>(50, queries.size());

  auto measure = [&](SpatialIndex& index, size_t n) {
    std::vector<double> qps;
    for (int r = 0; r < runs; ++r) {
      size_t found = 0;
      auto start = Clock::now();
      for (size_t i = 0; i < n; ++i) found += index.WithinRadius(queries[i], radius, 0)->size();
      const double s = std::chrono::duration<double>(Clock::now() - start).count();
      qps.push_back(static_cast<double>(n) / s);
      if (found == 0) std::cerr << "";
    }
    return NearestRankPercentile(qps, 50);
  };
  const double rtree_qps = measure(*rtree, queries.size());
  // The scan is slow: measure it on fewer queries.
  const double scan_qps = measure(*scan, std::max<size_t>(10, queries.size() / 50));

  SuiteReport report("spatial-suite", flags, Flags());
  report.Note(Format("- %zu points, radius %.4f (selectivity %g, %.1f hits per query)", points_n,
                     radius, selectivity, mean_hits));
  report.Table("", {"index", "queries/s", "build s"});
  report.Row({"rtree (packed)", Format("%.0f", rtree_qps), Format("%.3f", build_s)});
  report.Row({"scan", Format("%.0f", scan_qps), "-"});
  report.Value("radius", radius);
  report.Value("mean_hits", mean_hits);
  report.Value("rtree_build_s", build_s);
  report.Value("rtree_qps", rtree_qps);
  report.Value("scan_qps", scan_qps);
  report.Value("speedup", rtree_qps / scan_qps);
  return report.Finish(flags);
}

}  // namespace

BenchCommand SpatialSuite() {
  return {"spatial-suite", "R-tree vs linear-scan radius queries, in process, same run", Flags(),
          Run};
}

}  // namespace hartonomous::bench
