#include "index/parallel_scan.h"

#include <algorithm>
#include <atomic>
#include <limits>

#include "base/scan_workers.h"

namespace hartonomous::index {
namespace {

bool Worse(const Neighbor& a, const Neighbor& b) {
  return a.distance != b.distance ? a.distance < b.distance : a.label < b.label;
}

}  // namespace

float BestK::bound(const std::vector<Neighbor>& best) const {
  const float shared = shared_.load(std::memory_order_relaxed);
  return best.size() < k_ ? shared : std::min(shared, best.front().distance);
}

void BestK::Offer(std::vector<Neighbor>* best, const Neighbor& n) const {
  if (best->size() < k_) {
    best->push_back(n);
    std::push_heap(best->begin(), best->end(), Worse);
    if (best->size() < k_) return;
  } else if (k_ > 0 && Worse(n, best->front())) {
    std::pop_heap(best->begin(), best->end(), Worse);
    best->back() = n;
    std::push_heap(best->begin(), best->end(), Worse);
  } else {
    return;
  }
  // The heap is full and its k-th may have come nearer: publish it.
  const float kth = best->front().distance;
  float shared = shared_.load(std::memory_order_relaxed);
  while (kth < shared && !shared_.compare_exchange_weak(shared, kth, std::memory_order_relaxed)) {
  }
}

Result<std::vector<Neighbor>> ScanInChunks(size_t n, size_t item_bytes, size_t k,
                                           const Cancellation* stop, const ScanChunk& score) {
  item_bytes = std::max<size_t>(item_bytes, 1);
  size_t per_chunk = std::clamp<size_t>(kScanChunkBytes / item_bytes, 16, kStopCheckBlock);
  size_t chunks = (n + per_chunk - 1) / per_chunk;
  ScanWorkers& workers = ScanWorkers::Shared();
  if (n * item_bytes < kParallelScanBytes || workers.slots() == 1) {
    // One thread: one chunk per stop check, as before the cut.
    per_chunk = kStopCheckBlock;
    chunks = (n + per_chunk - 1) / per_chunk;
    std::vector<Neighbor> best;
    for (size_t c = 0; c < chunks; ++c) {
      if (stop != nullptr) HT_RETURN_IF_ERROR(stop->Check("exact scan"));
      score(c * per_chunk, std::min(n, (c + 1) * per_chunk), &best);
    }
    SortAndTruncate(&best, k);
    return best;
  }
  std::vector<std::vector<Neighbor>> parts(workers.slots());
  std::vector<Status> errors(workers.slots());
  std::atomic<bool> failed{false};
  workers.Run(chunks, [&](size_t c, size_t slot) {
    if (failed.load(std::memory_order_relaxed)) return;
    if (stop != nullptr) {
      Status s = stop->Check("exact scan");
      if (!s.ok()) {
        errors[slot] = std::move(s);
        failed.store(true, std::memory_order_relaxed);
        return;
      }
    }
    score(c * per_chunk, std::min(n, (c + 1) * per_chunk), &parts[slot]);
  });
  for (Status& s : errors) {
    if (!s.ok()) return s;
  }
  std::vector<Neighbor> best = std::move(parts[0]);
  for (size_t slot = 1; slot < parts.size(); ++slot) {
    best.insert(best.end(), parts[slot].begin(), parts[slot].end());
  }
  SortAndTruncate(&best, k);
  return best;
}

}  // namespace hartonomous::index
