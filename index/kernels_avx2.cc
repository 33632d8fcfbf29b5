// The AVX2 + FMA kernel table. Everything below the target pragma is
// compiled for that instruction set; kernels.cc uses the table only on a CPU
// that has it. No header is included after the pragma, so no inline
// function shared with other translation units is compiled with it.
#include <immintrin.h>

#include <cstddef>
#include <cstdint>

#include "index/kernel_variants.h"

// GCC takes a target pragma; clang applies the same target attribute to
// every function below.
#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("avx2,fma"))), apply_to = function)
#else
#pragma GCC push_options
#pragma GCC target("avx2,fma")
#endif

namespace hartonomous::index::internal {
namespace {

inline float Sum(__m256 v) {
  __m128 x = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  x = _mm_add_ps(x, _mm_movehl_ps(x, x));
  x = _mm_add_ss(x, _mm_movehdup_ps(x));
  return _mm_cvtss_f32(x);
}

inline uint32_t Sum(__m256i v) {
  __m128i x = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  x = _mm_add_epi32(x, _mm_unpackhi_epi64(x, x));
  x = _mm_add_epi32(x, _mm_shuffle_epi32(x, 1));
  return static_cast<uint32_t>(_mm_cvtsi128_si32(x));
}

template <bool kBounded>
float L2(const float* a, const float* b, size_t dim, float bound) {
  __m256 s0 = _mm256_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
  size_t i = 0;
  for (; i + 32 <= dim; i += 32) {
    const __m256 d0 = _mm256_sub_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i));
    const __m256 d1 = _mm256_sub_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8));
    const __m256 d2 = _mm256_sub_ps(_mm256_loadu_ps(a + i + 16), _mm256_loadu_ps(b + i + 16));
    const __m256 d3 = _mm256_sub_ps(_mm256_loadu_ps(a + i + 24), _mm256_loadu_ps(b + i + 24));
    s0 = _mm256_fmadd_ps(d0, d0, s0);
    s1 = _mm256_fmadd_ps(d1, d1, s1);
    s2 = _mm256_fmadd_ps(d2, d2, s2);
    s3 = _mm256_fmadd_ps(d3, d3, s3);
    if constexpr (kBounded) {
      // The partial sum never exceeds the final one (non-negative terms,
      // monotonic rounding, the same reduction).
      if ((i + 32) % 128 == 0 && i + 32 < dim) {
        const float partial = Sum(_mm256_add_ps(_mm256_add_ps(s0, s1), _mm256_add_ps(s2, s3)));
        if (partial > bound) return partial;
      }
    }
  }
  for (; i + 8 <= dim; i += 8) {
    const __m256 d = _mm256_sub_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i));
    s0 = _mm256_fmadd_ps(d, d, s0);
  }
  float sum = Sum(_mm256_add_ps(_mm256_add_ps(s0, s1), _mm256_add_ps(s2, s3)));
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
  __m256 s0 = _mm256_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
  size_t i = 0;
  for (; i + 32 <= dim; i += 32) {
    s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), s0);
    s1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8), s1);
    s2 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 16), _mm256_loadu_ps(b + i + 16), s2);
    s3 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 24), _mm256_loadu_ps(b + i + 24), s3);
  }
  for (; i + 8 <= dim; i += 8) {
    s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), s0);
  }
  float sum = Sum(_mm256_add_ps(_mm256_add_ps(s0, s1), _mm256_add_ps(s2, s3)));
  for (; i < dim; ++i) sum += a[i] * b[i];
  return sum;
}

void DotNorms(const float* a, const float* b, size_t dim, float out[3]) {
  __m256 ab0 = _mm256_setzero_ps(), ab1 = ab0, aa0 = ab0, aa1 = ab0, bb0 = ab0, bb1 = ab0;
  size_t i = 0;
  for (; i + 16 <= dim; i += 16) {
    const __m256 x0 = _mm256_loadu_ps(a + i), y0 = _mm256_loadu_ps(b + i);
    const __m256 x1 = _mm256_loadu_ps(a + i + 8), y1 = _mm256_loadu_ps(b + i + 8);
    ab0 = _mm256_fmadd_ps(x0, y0, ab0);
    ab1 = _mm256_fmadd_ps(x1, y1, ab1);
    aa0 = _mm256_fmadd_ps(x0, x0, aa0);
    aa1 = _mm256_fmadd_ps(x1, x1, aa1);
    bb0 = _mm256_fmadd_ps(y0, y0, bb0);
    bb1 = _mm256_fmadd_ps(y1, y1, bb1);
  }
  for (; i + 8 <= dim; i += 8) {
    const __m256 x = _mm256_loadu_ps(a + i), y = _mm256_loadu_ps(b + i);
    ab0 = _mm256_fmadd_ps(x, y, ab0);
    aa0 = _mm256_fmadd_ps(x, x, aa0);
    bb0 = _mm256_fmadd_ps(y, y, bb0);
  }
  out[0] = Sum(_mm256_add_ps(ab0, ab1));
  out[1] = Sum(_mm256_add_ps(aa0, aa1));
  out[2] = Sum(_mm256_add_ps(bb0, bb1));
  for (; i < dim; ++i) {
    out[0] += a[i] * b[i];
    out[1] += a[i] * a[i];
    out[2] += b[i] * b[i];
  }
}

// 8-bit codes widened to 16 bits; madd adds pairs of products into 32-bit
// lanes, which cannot overflow for dim <= 65536.
inline __m256i Widen(const uint8_t* p) {
  return _mm256_cvtepu8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
}

uint32_t SquaredL2U8(const uint8_t* a, const uint8_t* b, size_t dim) {
  __m256i s0 = _mm256_setzero_si256(), s1 = s0;
  size_t i = 0;
  for (; i + 32 <= dim; i += 32) {
    const __m256i d0 = _mm256_sub_epi16(Widen(a + i), Widen(b + i));
    const __m256i d1 = _mm256_sub_epi16(Widen(a + i + 16), Widen(b + i + 16));
    s0 = _mm256_add_epi32(s0, _mm256_madd_epi16(d0, d0));
    s1 = _mm256_add_epi32(s1, _mm256_madd_epi16(d1, d1));
  }
  for (; i + 16 <= dim; i += 16) {
    const __m256i d = _mm256_sub_epi16(Widen(a + i), Widen(b + i));
    s0 = _mm256_add_epi32(s0, _mm256_madd_epi16(d, d));
  }
  uint32_t sum = Sum(_mm256_add_epi32(s0, s1));
  for (; i < dim; ++i) {
    const int32_t d = int32_t{a[i]} - int32_t{b[i]};
    sum += static_cast<uint32_t>(d * d);
  }
  return sum;
}

uint32_t DotU8(const uint8_t* a, const uint8_t* b, size_t dim) {
  __m256i s0 = _mm256_setzero_si256(), s1 = s0;
  size_t i = 0;
  for (; i + 32 <= dim; i += 32) {
    s0 = _mm256_add_epi32(s0, _mm256_madd_epi16(Widen(a + i), Widen(b + i)));
    s1 = _mm256_add_epi32(s1, _mm256_madd_epi16(Widen(a + i + 16), Widen(b + i + 16)));
  }
  for (; i + 16 <= dim; i += 16) {
    s0 = _mm256_add_epi32(s0, _mm256_madd_epi16(Widen(a + i), Widen(b + i)));
  }
  uint32_t sum = Sum(_mm256_add_epi32(s0, s1));
  for (; i < dim; ++i) sum += uint32_t{a[i]} * uint32_t{b[i]};
  return sum;
}

float HnswL2(const void* a, const void* b, const void* param) {
  return L2<false>(static_cast<const float*>(a), static_cast<const float*>(b),
                   *static_cast<const size_t*>(param), 0);
}

float HnswL2Bounded(const void* a, const void* b, const void* param, float bound) {
  return L2<true>(static_cast<const float*>(a), static_cast<const float*>(b),
                  *static_cast<const size_t*>(param), bound);
}

float HnswIp(const void* a, const void* b, const void* param) {
  return 1.0f - Dot(static_cast<const float*>(a), static_cast<const float*>(b),
                    *static_cast<const size_t*>(param));
}

}  // namespace

const DistanceKernels kAvx2Kernels = {
    "avx2",      SquaredL2, SquaredL2Bounded, Dot,    DotNorms,
    SquaredL2U8, DotU8,     HnswL2,           HnswIp, HnswL2Bounded,
};

}  // namespace hartonomous::index::internal

#if defined(__clang__)
#pragma clang attribute pop
#else
#pragma GCC pop_options
#endif
