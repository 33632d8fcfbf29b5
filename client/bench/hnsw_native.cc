// Compiled with -march=native (see CMakeLists.txt). Every header hnswlib
// includes comes first, so that hnswlib's own code alone lands in the
// namespace below.
#include "hnsw_native.h"

#include <assert.h>
#include <cpuid.h>
#include <immintrin.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <x86intrin.h>

#include <algorithm>
#include <atomic>
#include <cassert>
#include <deque>
#include <fstream>
#include <iostream>
#include <list>
#include <mutex>
#include <queue>
#include <random>
#include <stdexcept>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace hartonomous_native_hnsw {
#include <hnswlib/hnswlib.h>
}  // namespace hartonomous_native_hnsw

namespace hartonomous::bench {
namespace {

namespace native = hartonomous_native_hnsw::hnswlib;

class NativeHnswImpl final : public NativeHnsw {
 public:
  NativeHnswImpl(size_t dim, size_t n, size_t m, size_t efc)
      : space_(dim), graph_(&space_, n, m, efc) {}
  void Add(const float* row, uint64_t label) { graph_.addPoint(row, label); }
  void SetEf(size_t ef) override { graph_.setEf(ef); }
  std::vector<uint64_t> Nearest(const float* query, size_t k) const override {
    auto pq = graph_.searchKnn(query, k);
    std::vector<uint64_t> rows(pq.size());
    for (size_t i = pq.size(); i-- > 0; pq.pop()) rows[i] = pq.top().second;
    return rows;
  }
  const char* kernel() const override {
#if defined(__AVX512F__)
    return "avx512";
#elif defined(__AVX__)
    return "avx";
#else
    return "sse";
#endif
  }

 private:
  native::L2Space space_;
  native::HierarchicalNSW<float> graph_;
};

}  // namespace

std::unique_ptr<NativeHnsw> NativeHnsw::Build(const float* rows, size_t n, size_t dim, size_t m,
                                              size_t ef_construction, size_t threads) {
  auto index = std::make_unique<NativeHnswImpl>(dim, n, m, ef_construction);
  std::atomic<size_t> next{0};
  auto work = [&] {
    for (size_t i = next++; i < n; i = next++) index->Add(rows + i * dim, i);
  };
  std::vector<std::thread> pool;
  for (size_t t = 1; t < std::max<size_t>(1, threads); ++t) pool.emplace_back(work);
  work();
  for (auto& t : pool) t.join();
  return index;
}

}  // namespace hartonomous::bench
