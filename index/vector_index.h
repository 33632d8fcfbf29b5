// VectorIndex: an in-memory nearest-neighbour index over fixed-dimension
// float vectors, each identified by a 64-bit label (the embedding id). The
// index is a cache of rows whose source of truth is LMDB: it can always be
// rebuilt from them, and it can be saved to a file and loaded again.
//
// Distances (smaller = closer), the same for every kind of index:
//   kL2           squared Euclidean distance
//   kInnerProduct 1 - <a, b>
//   kCosine       1 - cos(a, b)   (vectors are normalised on the way in)
//
// Thread-safety: implementations are thread-safe. Search, ExactAmong and
// Save may run concurrently with each other and with Add/Remove; a search
// never observes a vector whose Add has not returned. Add and Remove are
// issued by one thread at a time (the engine applies committed writes in
// commit order).
//
// No exception leaves an implementation: failures are Status values.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/cancellation.h"
#include "base/status.h"

namespace hartonomous::index {

enum class Metric { kCosine, kL2, kInnerProduct };

// "cosine", "l2", "ip".
const char* MetricName(Metric metric);
Result<Metric> ParseMetric(std::string_view name);

// Largest dimension any index accepts.
inline constexpr size_t kMaxDimension = 16384;

struct IndexParams {
  // HNSW: links per node. Default: 16.
  size_t m = 16;
  // HNSW: candidate list size while building. Default: 200.
  size_t ef_construction = 200;
  // HNSW: candidate list size of a search that does not ask for one.
  // Default: 64.
  size_t ef_search = 64;
};

class VectorSource;

struct IndexSpec {
  std::string kind;  // registry name: "hnsw", "hnsw_sq8", "flat"
  size_t dimension = 0;
  Metric metric = Metric::kCosine;
  IndexParams params;
  // The stored vectors of the index's labels (vector_source.h), for kinds
  // that keep only codes in memory ("hnsw_sq8" requires it); other kinds
  // ignore it.
  std::shared_ptr<const VectorSource> source;
};

struct Neighbor {
  uint64_t label = 0;
  float distance = 0;
  bool operator==(const Neighbor&) const = default;
};

// A predicate over labels for filtered searches (FilteredSearch).
// Matches may be called from the searching thread many times per search:
// it should cost about a memory read.
class LabelFilter {
 public:
  virtual ~LabelFilter() = default;
  virtual bool Matches(uint64_t label) const = 0;
};

class VectorIndex {
 public:
  virtual ~VectorIndex() = default;

  virtual const IndexSpec& spec() const = 0;
  // True when Search is exact (a full scan).
  virtual bool exact() const = 0;

  // Adds a vector of spec().dimension floats. AlreadyExists when label is
  // present (labels are never reused).
  virtual Status Add(uint64_t label, const float* vector) = 0;
  // Adds count vectors (labels[i] at vectors + i * spec().dimension) using
  // up to `threads` threads; the index then holds the same labels and
  // vectors as count calls of Add (an approximate kind may link them
  // differently). AlreadyExists, before anything is added, when a label is
  // present or repeated. The default implementation calls Add in order.
  virtual Status AddBatch(const std::vector<uint64_t>& labels, const float* vectors,
                          size_t threads);
  // Removes (or marks deleted) label. NotFound when absent.
  virtual Status Remove(uint64_t label) = 0;
  virtual bool Contains(uint64_t label) const = 0;
  // Labels present, in no particular order.
  virtual std::vector<uint64_t> Labels() const = 0;

  // Up to k nearest neighbours, nearest first. ef: candidate list size for
  // approximate kinds (0 = spec().params.ef_search); ignored by exact kinds.
  virtual Result<std::vector<Neighbor>> Search(const float* query, size_t k, size_t ef) const = 0;
  // Up to k nearest neighbours among the labels `filter` matches, nearest
  // first, with the filter evaluated during the search (filtered_search.h
  // for HNSW); ef as for Search. FailedPrecondition for kinds without a graph
  // (the default): an exact kind's caller scans the matching labels.
  virtual Result<std::vector<Neighbor>> FilteredSearch(const float* query, size_t k, size_t ef,
                                                       const LabelFilter& filter) const;
  // Exact k nearest among every vector, nearest first. With `stop`, it is
  // checked every kStopCheckBlock vectors: its DeadlineExceeded or Cancelled
  // ends the scan with that status.
  virtual Result<std::vector<Neighbor>> ExactSearch(const float* query, size_t k,
                                                    const Cancellation* stop = nullptr) const = 0;
  // Exact k nearest among labels (absent labels are skipped), nearest first;
  // `stop` as for ExactSearch.
  virtual Result<std::vector<Neighbor>> ExactAmong(const float* query,
                                                   const std::vector<uint64_t>& labels, size_t k,
                                                   const Cancellation* stop = nullptr) const = 0;

  // Stage 2 of a hybrid query: up to k nearest among labels, nearest first,
  // with exact distances. Kinds that hold compressed codes in memory score
  // the codes first and compute exact distances for the best
  // kRerankRefine * k of them only (so the answer may miss a true
  // neighbour the codes misplace: hybrid queries report their recall);
  // the default is ExactAmong. `stop` as for ExactSearch.
  virtual Result<std::vector<Neighbor>> RerankAmong(const float* query,
                                                    const std::vector<uint64_t>& labels, size_t k,
                                                    const Cancellation* stop = nullptr) const;

  virtual size_t size() const = 0;     // live vectors
  virtual size_t deleted() const = 0;  // marked deleted, still occupying memory
  virtual size_t memory_bytes() const = 0;

  // Writes the whole index to path (the caller makes it atomic).
  virtual Status Save(const std::string& path) const = 0;
};

// How many vectors an exact scan scores between two checks of its stop.
inline constexpr size_t kStopCheckBlock = 4096;
// Kinds that hold codes (RerankAmong, and "hnsw_sq8"'s searches): the
// candidates whose exact distance is computed, per result asked for.
inline constexpr size_t kRerankRefine = 3;

// Sorts by (distance, label) and keeps the first k.
void SortAndTruncate(std::vector<Neighbor>* neighbors, size_t k);

}  // namespace hartonomous::index
