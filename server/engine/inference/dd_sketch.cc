#include "server/engine/inference/dd_sketch.h"

#include <algorithm>
#include <cmath>

namespace hartonomous::engine {
namespace {

const double kGamma = (1 + DdSketch::kRelativeAccuracy) / (1 - DdSketch::kRelativeAccuracy);
const double kLogGamma = std::log(kGamma);

}  // namespace

int32_t DdSketch::IndexOf(double x) {
  return static_cast<int32_t>(std::ceil(std::log(x) / kLogGamma));
}

double DdSketch::ValueOf(int32_t index) {
  return 2 * std::exp(index * kLogGamma) / (kGamma + 1);
}

void DdSketch::Add(double x, uint64_t count) {
  if (count == 0) return;
  if (!(x >= kMinIndexable)) {
    AddZeros(count);
    return;
  }
  AddBucket(IndexOf(x), count);
}

void DdSketch::Remove(double x, uint64_t count) {
  if (count == 0) return;
  if (!(x >= kMinIndexable)) {
    const uint64_t removed = std::min(count, zero_count_);
    zero_count_ -= removed;
    count_ -= removed;
    return;
  }
  const int64_t i = int64_t{IndexOf(x)} - offset_;
  if (i < 0 || i >= static_cast<int64_t>(counts_.size())) return;  // REQUIRES violated
  const uint64_t removed = std::min(count, counts_[static_cast<size_t>(i)]);
  counts_[static_cast<size_t>(i)] -= removed;
  count_ -= removed;
}

void DdSketch::AddBucket(int32_t index, uint64_t count) {
  if (count == 0) return;
  if (counts_.empty()) {
    offset_ = index;
    counts_.assign(1, 0);
  } else if (index < offset_) {
    counts_.insert(counts_.begin(), static_cast<size_t>(offset_ - index), 0);
    offset_ = index;
  } else if (int64_t{index} - offset_ >= static_cast<int64_t>(counts_.size())) {
    counts_.resize(static_cast<size_t>(int64_t{index} - offset_ + 1), 0);
  }
  counts_[static_cast<size_t>(index - offset_)] += count;
  count_ += count;
}

void DdSketch::AddZeros(uint64_t count) {
  zero_count_ += count;
  count_ += count;
}

void DdSketch::Merge(const DdSketch& other) {
  if (!other.counts_.empty()) {
    // Grow once to cover other's range, then add.
    const int32_t other_last = other.offset_ + static_cast<int32_t>(other.counts_.size()) - 1;
    if (counts_.empty()) {
      offset_ = other.offset_;
      counts_.assign(other.counts_.size(), 0);
    } else {
      if (other.offset_ < offset_) {
        counts_.insert(counts_.begin(), static_cast<size_t>(offset_ - other.offset_), 0);
        offset_ = other.offset_;
      }
      if (int64_t{other_last} - offset_ >= static_cast<int64_t>(counts_.size())) {
        counts_.resize(static_cast<size_t>(int64_t{other_last} - offset_ + 1), 0);
      }
    }
    const size_t shift = static_cast<size_t>(other.offset_ - offset_);
    for (size_t i = 0; i < other.counts_.size(); ++i) counts_[shift + i] += other.counts_[i];
    count_ += other.count_ - other.zero_count_;
  }
  AddZeros(other.zero_count_);
}

void DdSketch::ForEachBucket(
    const std::function<void(int32_t index, uint64_t count)>& visit) const {
  for (size_t i = 0; i < counts_.size(); ++i) {
    if (counts_[i] != 0) visit(offset_ + static_cast<int32_t>(i), counts_[i]);
  }
}

std::map<int32_t, uint64_t> DdSketch::buckets() const {
  std::map<int32_t, uint64_t> out;
  ForEachBucket([&](int32_t index, uint64_t count) { out[index] = count; });
  return out;
}

double DdSketch::Quantile(double q) const {
  const uint64_t rank = static_cast<uint64_t>(std::floor(q * static_cast<double>(count_ - 1)));
  if (rank < zero_count_) return 0;
  uint64_t seen = zero_count_;
  int32_t last = offset_;
  for (size_t i = 0; i < counts_.size(); ++i) {
    if (counts_[i] == 0) continue;
    last = offset_ + static_cast<int32_t>(i);
    seen += counts_[i];
    if (seen > rank) return ValueOf(last);
  }
  return counts_.empty() ? 0 : ValueOf(last);
}

}  // namespace hartonomous::engine
