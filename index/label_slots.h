// LabelSlots: a map from a 64-bit label to a 32-bit slot for lookups that
// must cost at most one cache miss: the exact rerank of a hybrid search
// resolves thousands of labels per query, where std::unordered_map costs
// two or three misses each.
//
// Labels are usually dense (embedding ids handed out in order), so a
// window of them [base, base + window size) lives in a direct array of 4
// bytes per label, small enough to stay in a core's cache; the window
// grows while it holds at least a quarter of the labels it spans (so it
// never costs more than 16 bytes per label). Other labels go to a flat
// open-addressing table (linear probing, at most half full, 16 bytes per
// entry). A label is in exactly one of the two. Entries are never erased
// (an index marks deleted slots itself).
//
// Thread-safety: Find is safe from many threads while nothing inserts;
// Insert needs exclusive access.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

namespace hartonomous::index {

class LabelSlots {
 public:
  // Inserts or overwrites.
  void Insert(uint64_t label, uint32_t slot);
  std::optional<uint32_t> Find(uint64_t label) const {
    const uint64_t offset = label - base_;  // wraps for labels below base_
    if (offset < dense_.size()) {
      const uint32_t slot = dense_[offset];
      if (slot == kEmpty) return std::nullopt;
      return slot;
    }
    return FindHashed(label);
  }
  // Hints the cache with where label is looked up first.
  void Prefetch(uint64_t label) const {
    const uint64_t offset = label - base_;
    if (offset < dense_.size()) {
      __builtin_prefetch(&dense_[offset]);
    } else if (!entries_.empty()) {
      __builtin_prefetch(&entries_[Hash(label) & mask_]);
    }
  }
  size_t size() const { return dense_count_ + hashed_count_; }
  // Labels held by the direct array (the rest are hashed).
  size_t dense_count() const { return dense_count_; }

 private:
  struct Entry {
    uint64_t label;
    uint32_t slot;
  };
  static constexpr uint32_t kEmpty = UINT32_MAX;
  // The direct array may span max(kMinWindow, 4 x its labels) labels.
  static constexpr uint64_t kMinWindow = 1024;
  static size_t Hash(uint64_t x) {
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    return static_cast<size_t>(x);
  }
  std::optional<uint32_t> FindHashed(uint64_t label) const {
    if (entries_.empty()) return std::nullopt;
    for (size_t i = Hash(label) & mask_;; i = (i + 1) & mask_) {
      const Entry& e = entries_[i];
      if (e.slot == kEmpty) return std::nullopt;
      if (e.label == label) return e.slot;
    }
  }
  void InsertHashed(uint64_t label, uint32_t slot);
  void GrowHashed();
  // Widens the direct array to cover label if it stays dense enough, moving
  // hashed labels that fall inside; false when it would not.
  bool Widen(uint64_t label);

  std::vector<uint32_t> dense_;  // slot of label base_ + i, or kEmpty
  uint64_t base_ = 0;
  size_t dense_count_ = 0;
  std::vector<Entry> entries_;
  size_t mask_ = 0;
  size_t hashed_count_ = 0;
};

}  // namespace hartonomous::index
