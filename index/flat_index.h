// FlatIndex: exact search by scanning every vector. Vectors live in one
// contiguous array (removal moves the last vector into the hole), so a scan
// is a linear pass the distance kernels vectorise.
//
// Thread-safety: thread-safe (a shared_mutex: searches shared, changes
// exclusive).
#pragma once

#include <shared_mutex>
#include <unordered_map>

#include "base/mutex.h"
#include "index/vector_index.h"

namespace hartonomous::index {

class FlatIndex final : public VectorIndex {
 public:
  explicit FlatIndex(IndexSpec spec);
  static Result<std::unique_ptr<VectorIndex>> Load(const IndexSpec& spec, const std::string& path);

  const IndexSpec& spec() const override { return spec_; }
  bool exact() const override { return true; }
  Status Add(uint64_t label, const float* vector) override;
  Status Remove(uint64_t label) override;
  bool Contains(uint64_t label) const override;
  std::vector<uint64_t> Labels() const override;
  Result<std::vector<Neighbor>> Search(const float* query, size_t k, size_t ef) const override;
  Result<std::vector<Neighbor>> ExactSearch(const float* query, size_t k,
                                            const Cancellation* stop = nullptr) const override;
  Result<std::vector<Neighbor>> ExactAmong(const float* query, const std::vector<uint64_t>& labels,
                                           size_t k,
                                           const Cancellation* stop = nullptr) const override;
  size_t size() const override;
  size_t deleted() const override { return 0; }
  size_t memory_bytes() const override;
  Status Save(const std::string& path) const override;

  // A copy of every label and its stored (prepared) vector, slot order.
  void Rows(std::vector<uint64_t>* labels, std::vector<float>* vectors) const;

 private:
  const IndexSpec spec_;
  mutable SharedMutex mu_;
  std::vector<float> data_ GUARDED_BY(mu_);
  std::vector<uint64_t> labels_ GUARDED_BY(mu_);                // slot -> label
  std::unordered_map<uint64_t, size_t> slots_ GUARDED_BY(mu_);  // label -> slot
};

}  // namespace hartonomous::index
