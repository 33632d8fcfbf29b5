// DdSketch against exact quantiles: every estimate within the relative
// accuracy of the exact lower quantile, merging equal to adding, removing
// equal to never adding, and the same answer every time.
#include "server/engine/inference/dd_sketch.h"

#include <catch2/catch.hpp>
#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

using hartonomous::engine::DdSketch;

namespace {

double ExactQuantile(std::vector<double> values, double q) {
  std::sort(values.begin(), values.end());
  return values[static_cast<size_t>(std::floor(q * static_cast<double>(values.size() - 1)))];
}

void CheckWithinAccuracy(const DdSketch& sketch, const std::vector<double>& values) {
  for (double q : {0.0, 0.01, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.999, 1.0}) {
    const double exact = ExactQuantile(values, q);
    const double estimate = sketch.Quantile(q);
    INFO("q " << q << " exact " << exact << " estimate " << estimate);
    CHECK(std::abs(estimate - exact) <= DdSketch::kRelativeAccuracy * exact + 1e-12);
  }
}

}  // namespace

TEST_CASE("DdSketch quantiles are within 1 percent of the exact ones", "[dd_sketch]") {
  std::mt19937_64 rng(7);
  std::lognormal_distribution<double> lognormal(3.0, 1.5);
  std::vector<double> values;
  DdSketch sketch;
  for (int i = 0; i < 20000; ++i) {
    values.push_back(lognormal(rng));
    sketch.Add(values.back());
  }
  REQUIRE(sketch.count() == values.size());
  CheckWithinAccuracy(sketch, values);
}

TEST_CASE("DdSketch handles small sets, zeros and repeated values", "[dd_sketch]") {
  DdSketch one;
  one.Add(12.5);
  CHECK(std::abs(one.Quantile(0.99) - 12.5) <= 0.125);
  DdSketch zeros;
  std::vector<double> values = {0, 0, 0, 5, 5, 1000};
  for (double v : values) zeros.Add(v);
  CHECK(zeros.zero_count() == 3);
  CHECK(zeros.Quantile(0.0) == 0);
  CHECK(zeros.Quantile(0.4) == 0);
  CheckWithinAccuracy(zeros, values);
}

TEST_CASE("DdSketch merge equals adding every value to one sketch", "[dd_sketch]") {
  std::mt19937_64 rng(11);
  std::uniform_real_distribution<double> uniform(0.001, 5000);
  DdSketch a, b, all;
  for (int i = 0; i < 3000; ++i) {
    const double v = uniform(rng);
    (i % 3 == 0 ? a : b).Add(v);
    all.Add(v);
  }
  a.Merge(b);
  CHECK(a.buckets() == all.buckets());
  CHECK(a.count() == all.count());
  CHECK(a.Quantile(0.95) == all.Quantile(0.95));
}

TEST_CASE("DdSketch remove leaves the sketch of the remaining values", "[dd_sketch]") {
  std::mt19937_64 rng(5);
  std::exponential_distribution<double> exponential(0.01);
  std::vector<double> values;
  DdSketch sketch;
  for (int i = 0; i < 5000; ++i) {
    values.push_back(exponential(rng));
    sketch.Add(values.back());
  }
  for (int i = 0; i < 2000; ++i) sketch.Remove(values[static_cast<size_t>(i)]);
  std::vector<double> rest(values.begin() + 2000, values.end());
  DdSketch rebuilt;
  for (double v : rest) rebuilt.Add(v);
  CHECK(sketch.buckets() == rebuilt.buckets());
  CHECK(sketch.count() == rebuilt.count());
  CHECK(sketch.zero_count() == rebuilt.zero_count());
  CheckWithinAccuracy(sketch, rest);
}

TEST_CASE("DdSketch bucket estimates are within the accuracy of every member", "[dd_sketch]") {
  for (double x : {1e-6, 0.5, 1.0, 1.0202, 3.14159, 999.99, 1e6, 3.6e9}) {
    const double estimate = DdSketch::ValueOf(DdSketch::IndexOf(x));
    INFO("x " << x);
    CHECK(std::abs(estimate - x) <= DdSketch::kRelativeAccuracy * x * (1 + 1e-9));
  }
}
