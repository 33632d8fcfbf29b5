#include "index/label_slots.h"

#include <algorithm>

namespace hartonomous::index {

void LabelSlots::Insert(uint64_t label, uint32_t slot) {
  const uint64_t offset = label - base_;
  if (offset < dense_.size() || Widen(label)) {
    uint32_t& at = dense_[label - base_];
    if (at == kEmpty) ++dense_count_;
    at = slot;
    return;
  }
  InsertHashed(label, slot);
}

bool LabelSlots::Widen(uint64_t label) {
  if (label == UINT64_MAX) return false;  // keeps window ends representable
  const uint64_t limit = std::max<uint64_t>(kMinWindow, 4 * (uint64_t{dense_count_} + 1));
  // The window that just covers label (inclusive ends), then room for as
  // many labels again (within the limit) on the side it grew, so that
  // widening is amortised.
  uint64_t lo = label, hi = label;
  if (!dense_.empty()) {
    lo = std::min(base_, label);
    hi = std::max(base_ + (dense_.size() - 1), label);
  }
  if (hi - lo >= limit) return false;
  const uint64_t room = std::min(limit - (hi - lo + 1), hi - lo + 1 + 63);
  if (!dense_.empty() && label < base_) {
    lo -= std::min(room, lo);
  } else {
    hi += std::min(room, UINT64_MAX - 1 - hi);
  }
  std::vector<uint32_t> widened(hi - lo + 1, kEmpty);
  if (!dense_.empty()) std::copy(dense_.begin(), dense_.end(), widened.begin() + (base_ - lo));
  dense_ = std::move(widened);
  base_ = lo;
  // Hashed labels inside the new window move into it.
  if (hashed_count_ > 0) {
    std::vector<Entry> old = std::move(entries_);
    entries_.assign(old.size(), Entry{0, kEmpty});
    hashed_count_ = 0;
    for (const Entry& e : old) {
      if (e.slot == kEmpty) continue;
      if (e.label - base_ < dense_.size()) {
        dense_[e.label - base_] = e.slot;
        ++dense_count_;
      } else {
        InsertHashed(e.label, e.slot);
      }
    }
  }
  return true;
}

void LabelSlots::InsertHashed(uint64_t label, uint32_t slot) {
  if ((hashed_count_ + 1) * 2 > entries_.size()) GrowHashed();
  for (size_t i = Hash(label) & mask_;; i = (i + 1) & mask_) {
    Entry& e = entries_[i];
    if (e.slot == kEmpty) {
      e = Entry{label, slot};
      ++hashed_count_;
      return;
    }
    if (e.label == label) {
      e.slot = slot;
      return;
    }
  }
}

void LabelSlots::GrowHashed() {
  std::vector<Entry> old = std::move(entries_);
  const size_t capacity = old.empty() ? 1024 : old.size() * 2;
  entries_.assign(capacity, Entry{0, kEmpty});
  mask_ = capacity - 1;
  hashed_count_ = 0;
  for (const Entry& e : old) {
    if (e.slot != kEmpty) InsertHashed(e.label, e.slot);
  }
}

}  // namespace hartonomous::index
