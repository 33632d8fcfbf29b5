// ScanInChunks: an exact scan over n items cut into chunks that the scan
// helpers (base/scan_workers.h) share with the calling thread, for the
// scans that read many vectors per query (exact filtered search, exact
// search, hybrid reranks).
//
// score(begin, end, best) scores items [begin, end) into best, the
// running thread's own list (BestK keeps the nearest k there as a heap;
// a scorer may also push every score). The chunks' lists are merged into
// the nearest k, nearest first, ties by label: the same answer, whatever
// the number of threads, as one thread scoring every item.
//
// Small scans (under kParallelScanBytes of items) run on the caller alone.
// `stop` is checked before each chunk; its error ends the scan (chunks not
// yet started are skipped) and is returned.
//
// Thread-safety: score runs on several threads at once (each with its own
// `best`): it may read what the caller's locks protect, since the caller
// holds them until ScanInChunks returns, and must not write shared state.
#pragma once

#include <atomic>
#include <cstddef>
#include <functional>
#include <limits>
#include <vector>

#include "base/cancellation.h"
#include "base/status.h"
#include "index/vector_index.h"

namespace hartonomous::index {

// Below this many bytes of items a scan is not cut (a helper's wake-up
// costs more than it saves).
inline constexpr size_t kParallelScanBytes = size_t{512} << 10;
// About this many bytes of items per chunk.
inline constexpr size_t kScanChunkBytes = size_t{128} << 10;

using ScanChunk = std::function<void(size_t begin, size_t end, std::vector<Neighbor>* best)>;

Result<std::vector<Neighbor>> ScanInChunks(size_t n, size_t item_bytes, size_t k,
                                           const Cancellation* stop, const ScanChunk& score);

// The best-k heaps of one scan's scorers: each thread's list a max-heap by
// (distance, label) of at most k. Shared by the threads of the scan: a
// full heap publishes its k-th distance, and every thread's bound is the
// least published, since a candidate farther than some thread's k-th can
// be in no answer. (A candidate abandoned past that bound may enter a
// heap that is not yet full with its partial distance: it is still
// farther than k others, so the merge drops it.)
class BestK {
 public:
  explicit BestK(size_t k) : k_(k) {}
  // The distance a candidate must not exceed to enter: +inf until some
  // thread holds k.
  float bound(const std::vector<Neighbor>& best) const;
  void Offer(std::vector<Neighbor>* best, const Neighbor& n) const;

 private:
  size_t k_;
  mutable std::atomic<float> shared_{std::numeric_limits<float>::infinity()};
};

}  // namespace hartonomous::index
