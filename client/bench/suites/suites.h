// hartonomous-bench's suites: fixed sequences of measurements, each next to
// its reference measured in the same run (docs/benchmarks.md names the
// command of every table). One file each.
//
//   vector-suite      vector load and Search/BatchSearch/filtered search
//                     through hartonomousd vs hnswlib in-process
//   hybrid-suite      HybridSearch vs exact scan and HNSW through the server
//                     and an in-process PCA + R-tree + rerank
//   inference-suite   inference logging, analytics, newest 100, prune
//   spatial-suite     R-tree vs linear-scan radius queries, in-process
//   restart-probe     seconds from a daemon's start to its first answer
//   ingest            atom ingest with every returned id verified
//   ingest-reference  the same atoms written by LMDB alone, in-process
#pragma once

#include <vector>

#include "bench_command.h"

namespace hartonomous::bench {

BenchCommand VectorSuite();
BenchCommand HybridSuite();
BenchCommand InferenceSuite();
BenchCommand SpatialSuite();
BenchCommand RestartProbe();
BenchCommand IngestSuite();
BenchCommand IngestReferenceSuite();

// Every command above, in this order.
std::vector<BenchCommand> Suites();

}  // namespace hartonomous::bench
