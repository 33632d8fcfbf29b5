// hnswlib as the search benchmarks' in-process reference. hnswlib's headers
// define non-inline functions: include this from the one translation unit of
// a program that uses hnswlib.
#pragma once

#include <hnswlib/hnswlib.h>

#include <cstdint>
#include <memory>
#include <vector>

#include "search_bench_util.h"

namespace hartonomous::bench {

// hnswlib's SIMD L2 kernel for dimension of space.
inline DistanceFn L2Of(hnswlib::L2Space& space) {
  auto dist = space.get_dist_func();
  void* param = space.get_dist_func_param();
  return [dist, param](const float* a, const float* b) { return dist(a, b, param); };
}

// Every row of train, row r as label r, added by one thread.
inline std::unique_ptr<hnswlib::HierarchicalNSW<float>> BuildReference(hnswlib::L2Space& space,
                                                                       const cli::VectorFile& train,
                                                                       size_t m,
                                                                       size_t ef_construction) {
  auto ref =
      std::make_unique<hnswlib::HierarchicalNSW<float>>(&space, train.rows, m, ef_construction);
  for (size_t i = 0; i < train.rows; ++i) ref->addPoint(&train.values[i * train.dimension], i);
  return ref;
}

// The rows of the k nearest to query, nearest first.
inline std::vector<uint64_t> NearestRows(hnswlib::HierarchicalNSW<float>& ref, const float* query,
                                         size_t k) {
  auto pq = ref.searchKnn(query, k);
  std::vector<uint64_t> rows(pq.size());
  for (size_t i = pq.size(); i-- > 0; pq.pop()) rows[i] = pq.top().second;
  return rows;
}

}  // namespace hartonomous::bench
