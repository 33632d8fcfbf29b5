// Every distance kernel variant this CPU runs against a scalar reference in
// double precision, on random and edge-case inputs.
#include "index/kernels.h"

#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "index/distance.h"

namespace hartonomous::index {
namespace {

// Dimensions around every vector width and unroll step (8, 16, 32, 64) and
// the bounded kernels' 128-component check.
const size_t kDims[] = {1,  2,  3,  5,   7,   8,   9,   15,  16,  17,  31,  32,   33,
                        63, 64, 65, 100, 127, 128, 129, 255, 257, 300, 784, 1000, 1536};

struct Reference {
  double l2 = 0, dot = 0, aa = 0, bb = 0;
  double magnitude = 0;  // sum of |terms|: the scale of the rounding error
};

Reference Exact(const std::vector<float>& a, const std::vector<float>& b) {
  Reference r;
  for (size_t i = 0; i < a.size(); ++i) {
    const double x = a[i], y = b[i];
    r.l2 += (x - y) * (x - y);
    r.dot += x * y;
    r.aa += x * x;
    r.bb += y * y;
    r.magnitude += std::abs(x * y) + (x - y) * (x - y) + x * x + y * y;
  }
  return r;
}

// Float sums of n terms agree with the exact sum within n * eps * magnitude;
// the margin covers values that underflow (denormal inputs).
void CheckClose(double got, double want, const Reference& r, size_t dim) {
  const double tol =
      4.0 * double(dim + 8) * std::numeric_limits<float>::epsilon() * r.magnitude + 1e-30;
  CHECK(std::abs(got - want) <= tol);
}

void CheckPair(const DistanceKernels& k, const std::vector<float>& a, const std::vector<float>& b) {
  const size_t dim = a.size();
  const Reference r = Exact(a, b);
  CheckClose(k.squared_l2(a.data(), b.data(), dim), r.l2, r, dim);
  CheckClose(k.dot(a.data(), b.data(), dim), r.dot, r, dim);
  float sums[3];
  k.dot_norms(a.data(), b.data(), dim, sums);
  CheckClose(sums[0], r.dot, r, dim);
  CheckClose(sums[1], r.aa, r, dim);
  CheckClose(sums[2], r.bb, r, dim);
  // hnswlib's signature returns the same values as the direct kernels.
  CHECK(k.hnsw_l2(a.data(), b.data(), &dim) == k.squared_l2(a.data(), b.data(), dim));
  CHECK(k.hnsw_ip(a.data(), b.data(), &dim) == 1.0f - k.dot(a.data(), b.data(), dim));
  // Bounded: the unbounded value at or under the bound, more than it above.
  const float full = k.squared_l2(a.data(), b.data(), dim);
  CHECK(k.squared_l2_bounded(a.data(), b.data(), dim, full) == full);
  CHECK(k.squared_l2_bounded(a.data(), b.data(), dim, std::numeric_limits<float>::infinity()) ==
        full);
  if (full > 0) {
    const float cut = k.squared_l2_bounded(a.data(), b.data(), dim, full * 0.25f);
    CHECK(cut > full * 0.25f);
    CHECK(cut <= full);
    // hnswlib's signature, bounded: the same values as the direct kernel.
    CHECK(k.hnsw_l2_bounded(a.data(), b.data(), &dim, full * 0.25f) == cut);
  }
  CHECK(k.hnsw_l2_bounded(a.data(), b.data(), &dim, full) == full);
}

TEST_CASE("the kernels in use are the best this CPU supports, baseline always among them") {
  const auto supported = SupportedKernels();
  REQUIRE_FALSE(supported.empty());
  CHECK(std::string(supported.back()->name) == "baseline");
  CHECK(SupportedKernel("baseline") == supported.back());
  CHECK(SupportedKernel("no such kernel") == nullptr);
  bool found = false;
  for (const auto* k : supported) found = found || k == &Kernels();
  CHECK(found);
  if (std::getenv("HARTONOMOUS_KERNELS") == nullptr) CHECK(&Kernels() == supported.front());
#if defined(__x86_64__)
  __builtin_cpu_init();
  CHECK((SupportedKernel("avx2") != nullptr) ==
        (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")));
  CHECK((SupportedKernel("avx512") != nullptr) ==
        (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
         __builtin_cpu_supports("fma")));
#endif
}

TEST_CASE("float kernels of every supported variant equal the scalar reference") {
  std::mt19937 rng(7);
  std::normal_distribution<float> gauss;
  std::uniform_real_distribution<float> pixel(0, 255);
  for (const DistanceKernels* k : SupportedKernels()) {
    CAPTURE(k->name);
    for (size_t dim : kDims) {
      CAPTURE(dim);
      std::vector<float> a(dim), b(dim);
      for (int trial = 0; trial < 20; ++trial) {
        for (size_t i = 0; i < dim; ++i) {
          a[i] = trial % 2 ? gauss(rng) : pixel(rng);
          b[i] = trial % 2 ? gauss(rng) : pixel(rng);
        }
        CheckPair(*k, a, b);
      }
    }
  }
}

TEST_CASE("float kernels on edge cases: zeros, identical vectors, denormals, mixed scales") {
  std::mt19937 rng(8);
  std::normal_distribution<float> gauss;
  const float denormal = std::numeric_limits<float>::denorm_min() * 1000;
  for (const DistanceKernels* k : SupportedKernels()) {
    CAPTURE(k->name);
    for (size_t dim : kDims) {
      CAPTURE(dim);
      std::vector<float> zero(dim, 0.0f), a(dim), tiny(dim), mixed(dim);
      for (size_t i = 0; i < dim; ++i) {
        a[i] = gauss(rng);
        tiny[i] = (i % 2 ? -1 : 1) * denormal * float(1 + i % 7);
        mixed[i] = i % 3 == 0 ? denormal : gauss(rng) * 1e6f;
      }
      CheckPair(*k, zero, zero);
      CheckPair(*k, a, zero);
      CheckPair(*k, tiny, zero);
      CheckPair(*k, tiny, a);
      CheckPair(*k, mixed, a);
      CheckPair(*k, a, mixed);
      // Identical vectors: distance exactly 0, and the three cosine sums of
      // (a, a) are the same sum.
      CHECK(k->squared_l2(a.data(), a.data(), dim) == 0.0f);
      float sums[3];
      k->dot_norms(a.data(), a.data(), dim, sums);
      CHECK(sums[0] == sums[1]);
      CHECK(sums[1] == sums[2]);
      // Denormal inputs: the squares underflow; no NaN, never negative.
      const float t = k->squared_l2(tiny.data(), zero.data(), dim);
      CHECK(t >= 0.0f);
      CHECK(t <= 1e-30f);
    }
  }
}

TEST_CASE("8-bit kernels of every supported variant equal the exact integer sums") {
  std::mt19937 rng(9);
  std::uniform_int_distribution<int> byte(0, 255);
  for (const DistanceKernels* k : SupportedKernels()) {
    CAPTURE(k->name);
    for (size_t dim : {size_t{1}, size_t{2}, size_t{15}, size_t{16}, size_t{17}, size_t{31},
                       size_t{32}, size_t{33}, size_t{63}, size_t{64}, size_t{65}, size_t{127},
                       size_t{784}, size_t{1000}, size_t{65536}}) {
      CAPTURE(dim);
      std::vector<uint8_t> a(dim), b(dim);
      for (int trial = 0; trial < 5; ++trial) {
        for (size_t i = 0; i < dim; ++i) {
          a[i] = static_cast<uint8_t>(byte(rng));
          b[i] = static_cast<uint8_t>(byte(rng));
        }
        if (trial == 3) std::fill(a.begin(), a.end(), uint8_t{255});  // extremes
        if (trial == 4) {
          std::fill(a.begin(), a.end(), uint8_t{255});
          std::fill(b.begin(), b.end(), uint8_t{0});
        }
        uint64_t l2 = 0, dot = 0;
        for (size_t i = 0; i < dim; ++i) {
          const int64_t d = int64_t{a[i]} - int64_t{b[i]};
          l2 += static_cast<uint64_t>(d * d);
          dot += uint64_t{a[i]} * uint64_t{b[i]};
        }
        CHECK(uint64_t{k->squared_l2_u8(a.data(), b.data(), dim)} == l2);
        CHECK(uint64_t{k->dot_u8(a.data(), b.data(), dim)} == dot);
      }
    }
  }
}

TEST_CASE("the metric functions use the kernels in use") {
  std::mt19937 rng(10);
  std::normal_distribution<float> gauss;
  const size_t dim = 37;
  std::vector<float> a(dim), b(dim);
  for (size_t i = 0; i < dim; ++i) {
    a[i] = gauss(rng);
    b[i] = gauss(rng);
  }
  CHECK(Distance(Metric::kL2, a.data(), b.data(), dim) ==
        Kernels().squared_l2(a.data(), b.data(), dim));
  CHECK(Distance(Metric::kInnerProduct, a.data(), b.data(), dim) ==
        1.0f - Kernels().dot(a.data(), b.data(), dim));
  CHECK(SquaredL2(a.data(), b.data(), dim) == Kernels().squared_l2(a.data(), b.data(), dim));
}

}  // namespace
}  // namespace hartonomous::index
