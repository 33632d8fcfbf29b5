#include "latency_histogram.h"

#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdint>
#include <random>
#include <vector>

namespace hartonomous::bench {
namespace {

// Nearest-rank percentile of exact values.
uint64_t ExactPercentile(std::vector<uint64_t> values, double p) {
  std::sort(values.begin(), values.end());
  size_t rank = static_cast<size_t>(std::ceil(p / 100.0 * static_cast<double>(values.size())));
  rank = std::max<size_t>(rank, 1);
  return values[rank - 1];
}

TEST_CASE("Histogram buckets cover every value once and keep 1 part in 1024") {
  uint64_t previous_highest = 0;
  for (size_t i = 0; i <= LatencyHistogram::IndexOf(LatencyHistogram::kMaxValue); ++i) {
    const uint64_t low = LatencyHistogram::LowestOf(i), high = LatencyHistogram::HighestOf(i);
    INFO("bucket " << i << " [" << low << ", " << high << "]");
    if (i > 0) REQUIRE(low == previous_highest + 1);  // contiguous, no gaps or overlaps
    REQUIRE(LatencyHistogram::IndexOf(low) == i);
    REQUIRE(LatencyHistogram::IndexOf(high) == i);
    REQUIRE(static_cast<double>(high - low) <= static_cast<double>(low) / 1024.0);
    previous_highest = high;
  }
  REQUIRE(previous_highest == LatencyHistogram::kMaxValue);
}

TEST_CASE("Histogram values below 2048 are exact") {
  LatencyHistogram h;
  for (uint64_t v = 0; v < 2048; ++v) h.Record(v);
  REQUIRE(h.count() == 2048);
  REQUIRE(h.min() == 0);
  REQUIRE(h.max() == 2047);
  REQUIRE(h.ValueAtPercentile(50) == 1023);
  REQUIRE(h.ValueAtPercentile(100) == 2047);
  REQUIRE(h.mean() == Approx(1023.5));
}

TEST_CASE("Histogram percentiles are never below the exact ones and within 0.1 percent") {
  std::mt19937_64 rng(42);
  std::lognormal_distribution<double> latency(13.0, 1.2);  // about 0.4 ms median, long tail
  std::vector<uint64_t> values;
  LatencyHistogram h;
  for (int i = 0; i < 200000; ++i) {
    const uint64_t v = static_cast<uint64_t>(latency(rng));
    values.push_back(v);
    h.Record(v);
  }
  for (double p : {0.0, 1.0, 50.0, 90.0, 99.0, 99.9, 99.99, 100.0}) {
    const uint64_t exact = ExactPercentile(values, p);
    const uint64_t got = h.ValueAtPercentile(p);
    INFO("p" << p << " exact " << exact << " got " << got);
    REQUIRE(got >= exact);
    REQUIRE(static_cast<double>(got - exact) <= static_cast<double>(exact) / 1024.0 + 1);
  }
  REQUIRE(h.min() == *std::min_element(values.begin(), values.end()));
  REQUIRE(h.max() == *std::max_element(values.begin(), values.end()));
}

TEST_CASE("Histogram merge equals recording into one") {
  std::mt19937_64 rng(7);
  LatencyHistogram a, b, both;
  for (int i = 0; i < 10000; ++i) {
    const uint64_t v = rng() % 50000000;
    (i % 3 == 0 ? a : b).Record(v);
    both.Record(v);
  }
  a.Merge(b);
  REQUIRE(a.count() == both.count());
  REQUIRE(a.min() == both.min());
  REQUIRE(a.max() == both.max());
  REQUIRE(a.Buckets() == both.Buckets());
  for (double p : {50.0, 99.0, 99.9}) REQUIRE(a.ValueAtPercentile(p) == both.ValueAtPercentile(p));
}

TEST_CASE("Histogram clamps huge values and reports nothing when empty") {
  LatencyHistogram h;
  REQUIRE(h.ValueAtPercentile(99) == 0);
  REQUIRE(h.min() == 0);
  REQUIRE(h.Buckets().empty());
  h.Record(UINT64_MAX);
  REQUIRE(h.max() == LatencyHistogram::kMaxValue);
  REQUIRE(h.ValueAtPercentile(50) == LatencyHistogram::kMaxValue);
  h.Clear();
  REQUIRE(h.count() == 0);
}

}  // namespace
}  // namespace hartonomous::bench
