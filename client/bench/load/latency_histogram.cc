#include "latency_histogram.h"

#include <algorithm>
#include <cmath>

namespace hartonomous::bench {
namespace {

constexpr int kSubBits = 10;                           // 1024 buckets per power of two
constexpr uint64_t kLinear = uint64_t{2} << kSubBits;  // 2048 exact values
constexpr uint64_t kHalf = uint64_t{1} << kSubBits;    // 1024

}  // namespace

LatencyHistogram::LatencyHistogram() : counts_(IndexOf(kMaxValue) + 1, 0) {}

size_t LatencyHistogram::IndexOf(uint64_t value) {
  if (value < kLinear) return static_cast<size_t>(value);
  const int log2 = 63 - __builtin_clzll(value);
  const int shift = log2 - kSubBits;  // value >> shift is in [1024, 2047]
  return static_cast<size_t>(kLinear + static_cast<uint64_t>(shift - 1) * kHalf +
                             ((value >> shift) - kHalf));
}

uint64_t LatencyHistogram::LowestOf(size_t index) {
  if (index < kLinear) return index;
  const uint64_t j = index - kLinear;
  const uint64_t shift = j / kHalf + 1;
  return (kHalf + j % kHalf) << shift;
}

uint64_t LatencyHistogram::HighestOf(size_t index) {
  if (index < kLinear) return index;
  const uint64_t shift = (index - kLinear) / kHalf + 1;
  return LowestOf(index) + (uint64_t{1} << shift) - 1;
}

void LatencyHistogram::Record(uint64_t value) {
  value = std::min(value, kMaxValue);
  ++counts_[IndexOf(value)];
  ++count_;
  min_ = std::min(min_, value);
  max_ = std::max(max_, value);
  sum_ += static_cast<long double>(value);
}

void LatencyHistogram::Merge(const LatencyHistogram& other) {
  for (size_t i = 0; i < counts_.size(); ++i) counts_[i] += other.counts_[i];
  count_ += other.count_;
  min_ = std::min(min_, other.min_);
  max_ = std::max(max_, other.max_);
  sum_ += other.sum_;
}

void LatencyHistogram::Clear() {
  std::fill(counts_.begin(), counts_.end(), 0);
  count_ = 0;
  min_ = UINT64_MAX;
  max_ = 0;
  sum_ = 0;
}

double LatencyHistogram::mean() const {
  return count_ == 0 ? 0.0 : static_cast<double>(sum_ / static_cast<long double>(count_));
}

uint64_t LatencyHistogram::ValueAtPercentile(double p) const {
  if (count_ == 0) return 0;
  p = std::clamp(p, 0.0, 100.0);
  const uint64_t rank = std::max<uint64_t>(
      1, static_cast<uint64_t>(std::ceil(p / 100.0 * static_cast<double>(count_))));
  uint64_t seen = 0;
  for (size_t i = 0; i < counts_.size(); ++i) {
    seen += counts_[i];
    if (seen >= rank) return std::clamp(HighestOf(i), min_, max_);
  }
  return max_;
}

std::vector<std::pair<uint64_t, uint64_t>> LatencyHistogram::Buckets() const {
  std::vector<std::pair<uint64_t, uint64_t>> out;
  for (size_t i = 0; i < counts_.size(); ++i) {
    if (counts_[i] != 0) out.emplace_back(HighestOf(i), counts_[i]);
  }
  return out;
}

}  // namespace hartonomous::bench
