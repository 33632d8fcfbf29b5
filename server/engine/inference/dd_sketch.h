// DdSketch: a mergeable, subtractable quantile sketch with relative error
// (Masson, Rim and Lee, "DDSketch", VLDB 2019). A value x > 0 falls in
// bucket i = ceil(log_gamma(x)) with gamma = (1 + a) / (1 - a); every value
// of bucket i lies in (gamma^(i-1), gamma^i], and the bucket's estimate
// 2 * gamma^i / (gamma + 1) is within relative error a of each of them.
// Values below kMinIndexable (and 0) are counted apart and estimated as 0.
//
// Since a value always maps to the same bucket, sketches merge by adding
// bucket counts and a value is removed by subtracting its count: a sketch
// built over a set of values and one built from sketches of its parts, with
// removed values subtracted, are identical (the inference aggregates rely on
// it to stay equal to a recomputation after pruning).
//
// Quantile(q) is deterministic: the estimate of the bucket holding the value
// of rank floor(q * (count - 1)) in ascending order (the lower quantile).
//
// The buckets are a dense array from the lowest to the highest index seen
// (DDSketch's dense store): merging the hundreds of stored sketches an
// analytics query reads is array addition.
//
// Thread-safety: a value type; not thread-safe for concurrent mutation.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <vector>

namespace hartonomous::engine {

class DdSketch {
 public:
  // The relative accuracy: 1%.
  static constexpr double kRelativeAccuracy = 0.01;
  // Smaller values (negative ones included) count as zero.
  static constexpr double kMinIndexable = 1e-6;

  // The bucket index of x. REQUIRES: x >= kMinIndexable.
  static int32_t IndexOf(double x);
  // The value reported for bucket index.
  static double ValueOf(int32_t index);

  void Add(double x, uint64_t count = 1);
  // Removes count values equal to x. REQUIRES: they were added.
  void Remove(double x, uint64_t count = 1);
  void Merge(const DdSketch& other);

  // REQUIRES: count() > 0 and 0 <= q <= 1.
  double Quantile(double q) const;

  uint64_t count() const { return count_; }
  uint64_t zero_count() const { return zero_count_; }
  // Calls visit(index, count) for the non-empty buckets, ascending.
  void ForEachBucket(const std::function<void(int32_t index, uint64_t count)>& visit) const;
  // Bucket index -> count, ascending; no zero counts (for tests).
  std::map<int32_t, uint64_t> buckets() const;
  // For decoding a stored sketch.
  void AddBucket(int32_t index, uint64_t count);
  void AddZeros(uint64_t count);

 private:
  std::vector<uint64_t> counts_;  // counts_[i]: bucket offset_ + i
  int32_t offset_ = 0;
  uint64_t zero_count_ = 0;
  uint64_t count_ = 0;
};

}  // namespace hartonomous::engine
