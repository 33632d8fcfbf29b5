// VectorSource: the stored float vectors of an index's labels, read from
// where they are kept durably (the engine's LMDB rows). Index kinds that keep
// only compressed codes in memory ("hnsw_sq8") read their exact distances'
// vectors from it.
//
// Thread-safety: implementations are thread-safe; Read runs on searching
// threads in parallel.
#pragma once

#include <cstdint>
#include <vector>

#include "base/status.h"

namespace hartonomous::index {

class VectorSource {
 public:
  virtual ~VectorSource() = default;
  // For each label, its vector (dim floats, as given to VectorIndex::Add)
  // at out + i * dim and found[i] = true; found[i] = false when the label
  // has no stored vector (deleted since). REQUIRES: out holds
  // labels.size() * dim floats.
  virtual Status Read(const std::vector<uint64_t>& labels, size_t dim, float* out,
                      std::vector<bool>* found) const = 0;
};

}  // namespace hartonomous::index
