#include "server/engine/inference/dd_sketch.h"

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
  count_ -= count;
  if (!(x >= kMinIndexable)) {
    zero_count_ -= count;
    return;
  }
  auto it = buckets_.find(IndexOf(x));
  if (it == buckets_.end()) return;  // REQUIRES violated; keep the counts sane
  if (it->second <= count) {
    buckets_.erase(it);
  } else {
    it->second -= count;
  }
}

void DdSketch::AddBucket(int32_t index, uint64_t count) {
  buckets_[index] += count;
  count_ += count;
}

void DdSketch::AddZeros(uint64_t count) {
  zero_count_ += count;
  count_ += count;
}

void DdSketch::Merge(const DdSketch& other) {
  for (const auto& [index, count] : other.buckets_) AddBucket(index, count);
  AddZeros(other.zero_count_);
}

double DdSketch::Quantile(double q) const {
  const uint64_t rank = static_cast<uint64_t>(std::floor(q * static_cast<double>(count_ - 1)));
  if (rank < zero_count_) return 0;
  uint64_t seen = zero_count_;
  for (const auto& [index, count] : buckets_) {
    seen += count;
    if (seen > rank) return ValueOf(index);
  }
  return buckets_.empty() ? 0 : ValueOf(buckets_.rbegin()->first);
}

}  // namespace hartonomous::engine
