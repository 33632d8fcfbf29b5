// LatencyHistogram: a log-linear histogram of non-negative integer values
// (nanoseconds here), in the structure HdrHistogram uses: values below 2048
// are counted exactly; above, each power of two is cut into 1024 equal
// buckets, so a value is known to 1 part in 1024 (three significant digits).
// Values above kMaxValue (about 73 minutes in ns) are counted as kMaxValue.
// Memory is fixed (about 270 KB) whatever is recorded.
//
// Percentiles use the nearest rank and answer the highest value of the
// bucket that holds that rank (clamped to the exact minimum and maximum), so
// a reported p99 is never below the true p99.
//
// Thread-safety: none; callers serialize access (see LoadDriver).
#pragma once

#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

namespace hartonomous::bench {

class LatencyHistogram {
 public:
  static constexpr uint64_t kMaxValue = (uint64_t{1} << 42) - 1;

  LatencyHistogram();

  void Record(uint64_t value);
  // Adds every count of other.
  void Merge(const LatencyHistogram& other);
  void Clear();

  uint64_t count() const { return count_; }
  // 0 when empty.
  uint64_t min() const { return count_ == 0 ? 0 : min_; }
  uint64_t max() const { return max_; }
  double mean() const;
  // p in [0, 100]; 0 when empty.
  uint64_t ValueAtPercentile(double p) const;
  // Non-empty buckets in value order: (highest value of the bucket, count).
  std::vector<std::pair<uint64_t, uint64_t>> Buckets() const;

  // Bucket arithmetic, exposed for tests.
  static size_t IndexOf(uint64_t value);
  static uint64_t LowestOf(size_t index);
  static uint64_t HighestOf(size_t index);

 private:
  std::vector<uint64_t> counts_;
  uint64_t count_ = 0;
  uint64_t min_ = UINT64_MAX;
  uint64_t max_ = 0;
  long double sum_ = 0;
};

}  // namespace hartonomous::bench
