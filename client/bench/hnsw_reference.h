// hnswlib built like the rest of the benchmark (baseline x86-64) as the
// search suites' in-process reference. hnswlib's header defines non-inline
// functions, so only hnsw_reference.cc includes it; the suites see this
// interface.
//
// Thread-safety: Nearest may run on many threads at once; SetEf may not run
// during a search. HnswL2 is immutable.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "../cli/vector_files.h"

namespace hartonomous::bench {

// hnswlib's L2 kernel for dim floats (the SIMD variant its L2Space picks).
class HnswL2 {
 public:
  explicit HnswL2(size_t dim);
  float operator()(const float* a, const float* b) const { return fn_(a, b, &dim_); }

 private:
  using Fn = float (*)(const void*, const void*, const void*);
  Fn fn_;
  size_t dim_;
};

class HnswReference {
 public:
  // Every row of train, row r as label r, added by one thread.
  static std::unique_ptr<HnswReference> Build(const cli::VectorFile& train, size_t m,
                                              size_t ef_construction);
  virtual ~HnswReference() = default;
  virtual void SetEf(size_t ef) = 0;
  // The rows of the k nearest to query, nearest first.
  virtual std::vector<uint64_t> Nearest(const float* query, size_t k) const = 0;
  // hnswlib's own structures: level 0 (links, vector, label) plus upper levels.
  virtual double IndexBytes() const = 0;
};

}  // namespace hartonomous::bench
