#include "index/kernels.h"

#include <algorithm>
#include <cstdlib>

#include "index/kernel_variants.h"

namespace hartonomous::index {
namespace internal {
namespace {

// Portable loops with eight independent accumulators, so that the compiler
// vectorises them for the baseline instruction set without -ffast-math.

float SumOf(const float acc[8]) {
  return ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
}

template <bool kBounded>
float L2(const float* a, const float* b, size_t dim, float bound) {
  // Every 128 components the combined partial sum (never more than the
  // final one: the terms are non-negative and rounding is monotonic) is
  // checked against bound; the accumulators are the same either way, so a
  // pair that runs to the end gets the unbounded value.
  constexpr size_t kChunk = 128;
  float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  size_t i = 0;
  while (i + 8 <= dim) {
    const size_t stop = std::min(dim - (dim - i) % 8, i + kChunk);
    for (; i < stop; i += 8) {
      for (size_t j = 0; j < 8; ++j) {
        const float d = a[i + j] - b[i + j];
        acc[j] += d * d;
      }
    }
    if constexpr (kBounded) {
      if (i + 8 <= dim && SumOf(acc) > bound) return SumOf(acc);
    }
  }
  float sum = SumOf(acc);
  for (; i < dim; ++i) {
    const float d = a[i] - b[i];
    sum += d * d;
  }
  return sum;
}

float SquaredL2(const float* a, const float* b, size_t dim) { return L2<false>(a, b, dim, 0); }

float SquaredL2Bounded(const float* a, const float* b, size_t dim, float bound) {
  return L2<true>(a, b, dim, bound);
}

float Dot(const float* a, const float* b, size_t dim) {
  float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  size_t i = 0;
  for (; i + 8 <= dim; i += 8) {
    for (size_t j = 0; j < 8; ++j) acc[j] += a[i + j] * b[i + j];
  }
  float sum = SumOf(acc);
  for (; i < dim; ++i) sum += a[i] * b[i];
  return sum;
}

void DotNorms(const float* a, const float* b, size_t dim, float out[3]) {
  float ab[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  float aa[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  float bb[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  size_t i = 0;
  for (; i + 8 <= dim; i += 8) {
    for (size_t j = 0; j < 8; ++j) {
      ab[j] += a[i + j] * b[i + j];
      aa[j] += a[i + j] * a[i + j];
      bb[j] += b[i + j] * b[i + j];
    }
  }
  out[0] = SumOf(ab);
  out[1] = SumOf(aa);
  out[2] = SumOf(bb);
  for (; i < dim; ++i) {
    out[0] += a[i] * b[i];
    out[1] += a[i] * a[i];
    out[2] += b[i] * b[i];
  }
}

uint32_t SquaredL2U8(const uint8_t* a, const uint8_t* b, size_t dim) {
  uint32_t sum = 0;
  for (size_t i = 0; i < dim; ++i) {
    const int32_t d = int32_t{a[i]} - int32_t{b[i]};
    sum += static_cast<uint32_t>(d * d);
  }
  return sum;
}

uint32_t DotU8(const uint8_t* a, const uint8_t* b, size_t dim) {
  uint32_t sum = 0;
  for (size_t i = 0; i < dim; ++i) sum += uint32_t{a[i]} * uint32_t{b[i]};
  return sum;
}

float HnswL2(const void* a, const void* b, const void* param) {
  return SquaredL2(static_cast<const float*>(a), static_cast<const float*>(b),
                   *static_cast<const size_t*>(param));
}

float HnswL2Bounded(const void* a, const void* b, const void* param, float bound) {
  return SquaredL2Bounded(static_cast<const float*>(a), static_cast<const float*>(b),
                          *static_cast<const size_t*>(param), bound);
}

float HnswIp(const void* a, const void* b, const void* param) {
  return 1.0f - Dot(static_cast<const float*>(a), static_cast<const float*>(b),
                    *static_cast<const size_t*>(param));
}

}  // namespace

const DistanceKernels kBaselineKernels = {
    "baseline",  SquaredL2, SquaredL2Bounded, Dot,    DotNorms,
    SquaredL2U8, DotU8,     HnswL2,           HnswIp, HnswL2Bounded,
};

}  // namespace internal

namespace {

bool Runs(const DistanceKernels* k) {
  __builtin_cpu_init();
  if (k == &internal::kAvx512Kernels) {
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
           __builtin_cpu_supports("fma");
  }
  if (k == &internal::kAvx2Kernels) {
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  }
  return true;
}

const DistanceKernels* Choose() {
  const auto supported = SupportedKernels();
  if (const char* wanted = std::getenv("HARTONOMOUS_KERNELS")) {
    if (const DistanceKernels* k = SupportedKernel(wanted)) return k;
  }
  return supported.front();
}

}  // namespace

std::vector<const DistanceKernels*> SupportedKernels() {
  std::vector<const DistanceKernels*> out;
  for (const DistanceKernels* k :
       {&internal::kAvx512Kernels, &internal::kAvx2Kernels, &internal::kBaselineKernels}) {
    if (Runs(k)) out.push_back(k);
  }
  return out;
}

const DistanceKernels* SupportedKernel(std::string_view name) {
  for (const DistanceKernels* k : SupportedKernels()) {
    if (name == k->name) return k;
  }
  return nullptr;
}

const DistanceKernels& Kernels() {
  static const DistanceKernels* const chosen = Choose();
  return *chosen;
}

}  // namespace hartonomous::index
