// hnswlib compiled for the build machine's own CPU (-march=native): the
// reference hnswlib reaches where the compiler may use every instruction the
// CPU has. Its code lives in one translation unit, inside a namespace of its
// own, so it shares no symbol with the generically built hnswlib of the
// other benchmark sources.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

namespace hartonomous::bench {

class NativeHnsw {
 public:
  // rows x dim floats; label r for row r, added by `threads` threads.
  static std::unique_ptr<NativeHnsw> Build(const float* rows, size_t n, size_t dim, size_t m,
                                           size_t ef_construction, size_t threads);
  virtual ~NativeHnsw() = default;
  virtual void SetEf(size_t ef) = 0;
  // The rows of the k nearest to query, nearest first.
  virtual std::vector<uint64_t> Nearest(const float* query, size_t k) const = 0;
  // Which distance kernel hnswlib's L2 space compiled to ("avx512", "avx", "sse").
  virtual const char* kernel() const = 0;
};

}  // namespace hartonomous::bench
