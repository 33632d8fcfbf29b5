#include "index/label_slots.h"

namespace hartonomous::index {

void LabelSlots::Insert(uint64_t label, uint32_t slot) {
  if ((size_ + 1) * 2 > entries_.size()) Grow();
  for (size_t i = Hash(label) & mask_;; i = (i + 1) & mask_) {
    Entry& e = entries_[i];
    if (e.slot == kEmpty) {
      e = Entry{label, slot};
      ++size_;
      return;
    }
    if (e.label == label) {
      e.slot = slot;
      return;
    }
  }
}

void LabelSlots::Grow() {
  std::vector<Entry> old = std::move(entries_);
  const size_t capacity = old.empty() ? 1024 : old.size() * 2;
  entries_.assign(capacity, Entry{0, kEmpty});
  mask_ = capacity - 1;
  size_ = 0;
  for (const Entry& e : old) {
    if (e.slot != kEmpty) Insert(e.label, e.slot);
  }
}

}  // namespace hartonomous::index
