// HnswIndex: approximate search with hnswlib's HierarchicalNSW<float>.
//
// hnswlib 0.6.2 facts this wrapper is built around:
//  - one global ef: a search asks for max(k, ef) results (hnswlib then uses
//    ef' = max(ef, k')) and keeps the first k, so ef is per query;
//  - addPoint may run concurrently with searches and with other adds, but
//    not with resizeIndex: a shared_mutex is held shared by searches and
//    adds, exclusively to grow capacity and to read label_lookup_; Save
//    blocks changes but not searches;
//  - deletes are marks (markDelete): the slot stays until a rebuild;
//  - it reports errors by throwing std::runtime_error: caught here.
//
// Elements: by default the graph stores each vector's floats (prepared:
// normalised for cosine) and scores them with the metric's kernel. With
// HnswElements it stores a code of each vector instead (ScalarQuantizer's,
// for "hnsw_sq8") and every distance it computes, searches and exact scans
// included, is the code distance.
//
// Thread-safety: see vector_index.h.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <shared_mutex>

#include "base/mutex.h"
#include "index/distance.h"
#include "index/label_slots.h"
#include "index/vector_index.h"

namespace hartonomous::index {

// What the graph stores per vector when not its floats: `bytes` per element,
// written by encode from the prepared floats, scored by distance(a, b, param);
// bounded, when set, is distance abandoned past a bound (L2: ExactAmong
// keeps the best k and abandons a candidate once it is out of them).
// REQUIRES: param outlives the index.
struct HnswElements {
  size_t bytes = 0;
  MetricFunction distance = nullptr;
  BoundedMetricFunction bounded = nullptr;
  const void* param = nullptr;
  std::function<void(const float* prepared, uint8_t* out)> encode;
};

class HnswIndex final : public VectorIndex {
 public:
  static Result<std::unique_ptr<VectorIndex>> Create(const IndexSpec& spec);
  static Result<std::unique_ptr<VectorIndex>> Load(const IndexSpec& spec, const std::string& path);
  // The same over encoded elements. Load: DataLoss when the file's elements
  // are not elements.bytes long.
  static Result<std::unique_ptr<HnswIndex>> CreateEncoded(const IndexSpec& spec,
                                                          HnswElements elements);
  static Result<std::unique_ptr<HnswIndex>> LoadEncoded(const IndexSpec& spec,
                                                        const std::string& path,
                                                        HnswElements elements);
  ~HnswIndex() override;

  const IndexSpec& spec() const override { return spec_; }
  bool exact() const override { return false; }
  Status Add(uint64_t label, const float* vector) override;
  // Parallel: one capacity check, then `threads` workers each call
  // addPoint for distinct labels (hnswlib locks per element and guards its
  // label map itself); searches keep running.
  Status AddBatch(const std::vector<uint64_t>& labels, const float* vectors,
                  size_t threads) override;
  Status Remove(uint64_t label) override;
  bool Contains(uint64_t label) const override;
  std::vector<uint64_t> Labels() const override;
  Result<std::vector<Neighbor>> Search(const float* query, size_t k, size_t ef) const override;
  // FilteredGraphSearch (filtered_search.h) over the graph, two-hop
  // expansion up to 2 * M matching neighbours per node.
  Result<std::vector<Neighbor>> FilteredSearch(const float* query, size_t k, size_t ef,
                                               const LabelFilter& filter) const override;
  Result<std::vector<Neighbor>> ExactSearch(const float* query, size_t k,
                                            const Cancellation* stop = nullptr) const override;
  Result<std::vector<Neighbor>> ExactAmong(const float* query, const std::vector<uint64_t>& labels,
                                           size_t k,
                                           const Cancellation* stop = nullptr) const override;
  size_t size() const override { return live_.load(); }
  size_t deleted() const override { return deleted_.load(); }
  size_t memory_bytes() const override;
  Status Save(const std::string& path) const override;

  struct Impl;

 private:
  HnswIndex(IndexSpec spec, std::unique_ptr<Impl> impl);
  static Result<std::unique_ptr<HnswIndex>> Make(const IndexSpec& spec, HnswElements elements);
  static Result<std::unique_ptr<HnswIndex>> Read(const IndexSpec& spec, const std::string& path,
                                                 HnswElements elements);
  // The element the graph stores (or searches with) for a caller's vector.
  void Encode(const float* vector, std::vector<uint8_t>* element) const;

  const IndexSpec spec_;
  std::unique_ptr<Impl> impl_;
  mutable SharedMutex mu_;
  // Add and Remove hold it exclusively; readers of label_lookup_ and of the
  // element count (exact scans, Contains, Labels, Save) hold it shared, so
  // they run in parallel with each other and with ANN searches.
  mutable SharedMutex change_mu_;
  LabelSlots slots_ GUARDED_BY(change_mu_);  // label -> internal id
  std::atomic<size_t> live_{0};
  std::atomic<size_t> deleted_{0};
};

}  // namespace hartonomous::index
