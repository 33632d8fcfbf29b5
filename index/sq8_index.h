// Sq8Index ("hnsw_sq8"): an HNSW graph over 8-bit codes of the vectors
// (ScalarQuantizer) instead of their floats, with the best candidates
// reranked exactly from the stored floats (IndexSpec::source, the engine's
// LMDB rows). Memory per vector: dimension + 4 bytes of code plus the
// graph's links, against 4 x dimension bytes of floats for "hnsw".
//
// Training: the quantizer is fitted to the first kTrainVectors vectors.
// Until then the vectors are kept as floats in a flat index and every
// search is exact; the vector that reaches kTrainVectors fits the quantizer
// and moves them into the graph. A rebuild (or a start without a snapshot)
// fits a new quantizer to the first kTrainVectors it adds; values outside
// the fitted range are clamped (ScalarQuantizer::clamped counts them).
//
// Lossless codes (8-bit data such as image pixels, ScalarQuantizer::
// lossless): the code distances are the exact distances, so every search
// below is answered from the codes in memory, with no rerank and no read.
// From the first vector off the codes' grid on, searches rerank:
//
// Results: Search and FilteredSearch walk the graph with max(k, ef)
// candidates by code distance, read the stored floats of the best
// kRerankRefine * k of them and return the nearest k by exact distance; ExactSearch and ExactAmong
// score the stored floats of every label they consider (one read per label: slower than "hnsw",
// whose floats are in memory); RerankAmong (hybrid stage 2) scores the codes of every candidate and
// reads the floats of the best kRerankRefine * k. A label whose stored vector is gone (deleted
// since) is left out. Distances returned are always exact.
//
// Snapshot file: the graph (hnswlib's format) or, before training, the flat
// index's file, then the quantizer (ScalarQuantizer::Serialize), then
// u64 payload bytes, u32 quantizer bytes, u32 mode (0 flat, 1 graph) and
// the 8-byte magic "HTSQ8v1\0".
//
// Thread-safety: see vector_index.h.
#pragma once

#include <memory>

#include "base/mutex.h"
#include "index/scalar_quantizer.h"
#include "index/vector_index.h"

namespace hartonomous::index {

class Sq8Index final : public VectorIndex {
 public:
  static constexpr size_t kTrainVectors = 1024;

  // InvalidArgument when spec.source is unset (the floats to rerank from).
  static Result<std::unique_ptr<VectorIndex>> Create(const IndexSpec& spec);
  static Result<std::unique_ptr<VectorIndex>> Load(const IndexSpec& spec, const std::string& path);
  ~Sq8Index() override;

  const IndexSpec& spec() const override { return spec_; }
  bool exact() const override { return false; }
  Status Add(uint64_t label, const float* vector) override;
  Status AddBatch(const std::vector<uint64_t>& labels, const float* vectors,
                  size_t threads) override;
  Status Remove(uint64_t label) override;
  bool Contains(uint64_t label) const override;
  std::vector<uint64_t> Labels() const override;
  Result<std::vector<Neighbor>> Search(const float* query, size_t k, size_t ef) const override;
  Result<std::vector<Neighbor>> FilteredSearch(const float* query, size_t k, size_t ef,
                                               const LabelFilter& filter) const override;
  Result<std::vector<Neighbor>> ExactSearch(const float* query, size_t k,
                                            const Cancellation* stop = nullptr) const override;
  Result<std::vector<Neighbor>> ExactAmong(const float* query, const std::vector<uint64_t>& labels,
                                           size_t k,
                                           const Cancellation* stop = nullptr) const override;
  // Codes first (in memory, the u8 kernels), then the exact distances of
  // the best kRerankRefine * k from the source.
  Result<std::vector<Neighbor>> RerankAmong(const float* query, const std::vector<uint64_t>& labels,
                                            size_t k,
                                            const Cancellation* stop = nullptr) const override;
  size_t size() const override;
  size_t deleted() const override;
  size_t memory_bytes() const override;
  Status Save(const std::string& path) const override;

  // False until kTrainVectors vectors arrived.
  bool trained() const;
  // Trained, and the codes hold every vector exactly (ScalarQuantizer::
  // lossless): searches then use the code distances, no floats are read.
  bool lossless() const;

 private:
  explicit Sq8Index(IndexSpec spec);
  // The current store: the flat index before training, the graph after.
  struct State {
    std::shared_ptr<VectorIndex> store;
    bool graph = false;
    bool lossless = false;  // the codes hold every vector exactly
  };
  State Current() const;
  // Fits the quantizer to the flat index's vectors (plus the batch), builds
  // the graph from them and switches to it.
  Status Train(const std::vector<uint64_t>& labels, const float* vectors, size_t threads);
  // The nearest k of candidates by exact distance over the stored floats.
  Result<std::vector<Neighbor>> Rerank(const float* query, std::vector<uint64_t> labels, size_t k,
                                       const Cancellation* stop) const;

  const IndexSpec spec_;
  mutable Mutex mu_;
  std::shared_ptr<VectorIndex> current_ GUARDED_BY(mu_);
  // Set once trained; outlives every graph that points at it.
  std::shared_ptr<const ScalarQuantizer> quantizer_ GUARDED_BY(mu_);
};

}  // namespace hartonomous::index
