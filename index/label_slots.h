// LabelSlots: a flat open-addressing map from a 64-bit label to a 32-bit
// slot (linear probing, at most half full), for lookups that must cost one
// cache miss: the exact rerank of a hybrid search resolves thousands of
// labels per query, where std::unordered_map costs two or three misses each.
// Entries are never erased (an index marks deleted slots itself).
//
// Thread-safety: Find is safe from many threads while nothing inserts;
// Insert/Reserve need exclusive access.
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
    if (entries_.empty()) return std::nullopt;
    for (size_t i = Hash(label) & mask_;; i = (i + 1) & mask_) {
      const Entry& e = entries_[i];
      if (e.slot == kEmpty) return std::nullopt;
      if (e.label == label) return e.slot;
    }
  }
  // Hints the cache with label's first probe position.
  void Prefetch(uint64_t label) const {
    if (!entries_.empty()) __builtin_prefetch(&entries_[Hash(label) & mask_]);
  }
  size_t size() const { return size_; }

 private:
  struct Entry {
    uint64_t label;
    uint32_t slot;
  };
  static constexpr uint32_t kEmpty = UINT32_MAX;
  static size_t Hash(uint64_t x) {
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    return static_cast<size_t>(x);
  }
  void Grow();

  std::vector<Entry> entries_;
  size_t mask_ = 0;
  size_t size_ = 0;
};

}  // namespace hartonomous::index
