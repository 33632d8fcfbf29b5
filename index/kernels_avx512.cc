// The AVX-512 (F, BW) + FMA kernel table. Everything below the target pragma
// is compiled for that instruction set; kernels.cc uses the table only on a
// CPU that has it. No header is included after the pragma, so no inline
// function shared with other translation units is compiled with it.
#include <immintrin.h>

#include <cstddef>
#include <cstdint>

#include "index/kernel_variants.h"

// GCC takes a target pragma; clang applies the same target attribute to
// every function below.
#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("avx512f,avx512bw,avx2,fma"))), \
                             apply_to = function)
#else
#pragma GCC push_options
#pragma GCC target("avx512f,avx512bw,avx2,fma")
#endif

namespace hartonomous::index::internal {
namespace {

// Horizontal sums by in-register shuffles. The zero-masked forms with every
// lane selected: GCC 12's plain forms (and _mm512_reduce_add_*) merge into
// an "undefined" register that its own -Wuninitialized flags.
constexpr __mmask16 kAll = 0xFFFF;

inline float Sum(__m512 v) {
  v = _mm512_add_ps(v, _mm512_maskz_shuffle_f32x4(kAll, v, v, 0x4E));  // 256-bit halves
  v = _mm512_add_ps(v, _mm512_maskz_shuffle_f32x4(kAll, v, v, 0xB1));  // 128-bit quarters
  v = _mm512_add_ps(v, _mm512_maskz_permute_ps(kAll, v, 0x4E));        // 64-bit pairs
  v = _mm512_add_ps(v, _mm512_maskz_permute_ps(kAll, v, 0xB1));        // neighbours
  return _mm512_cvtss_f32(v);
}

inline uint32_t Sum(__m512i v) {
  v = _mm512_add_epi32(v, _mm512_maskz_shuffle_i32x4(kAll, v, v, 0x4E));
  v = _mm512_add_epi32(v, _mm512_maskz_shuffle_i32x4(kAll, v, v, 0xB1));
  v = _mm512_add_epi32(v, _mm512_maskz_shuffle_epi32(kAll, v, static_cast<_MM_PERM_ENUM>(0x4E)));
  v = _mm512_add_epi32(v, _mm512_maskz_shuffle_epi32(kAll, v, static_cast<_MM_PERM_ENUM>(0xB1)));
  return static_cast<uint32_t>(_mm512_cvtsi512_si32(v));
}

// The components i.. of a row of dim, 16 at most; the rest read as zero
// (masked loads do not touch memory past the row).
inline __m512 Tail(const float* p, size_t i, size_t dim) {
  const __mmask16 mask = static_cast<__mmask16>((1u << (dim - i)) - 1);
  return _mm512_maskz_loadu_ps(mask, p + i);
}

template <bool kBounded>
float L2(const float* a, const float* b, size_t dim, float bound) {
  __m512 s0 = _mm512_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
  size_t i = 0;
  for (; i + 64 <= dim; i += 64) {
    const __m512 d0 = _mm512_sub_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i));
    const __m512 d1 = _mm512_sub_ps(_mm512_loadu_ps(a + i + 16), _mm512_loadu_ps(b + i + 16));
    const __m512 d2 = _mm512_sub_ps(_mm512_loadu_ps(a + i + 32), _mm512_loadu_ps(b + i + 32));
    const __m512 d3 = _mm512_sub_ps(_mm512_loadu_ps(a + i + 48), _mm512_loadu_ps(b + i + 48));
    s0 = _mm512_fmadd_ps(d0, d0, s0);
    s1 = _mm512_fmadd_ps(d1, d1, s1);
    s2 = _mm512_fmadd_ps(d2, d2, s2);
    s3 = _mm512_fmadd_ps(d3, d3, s3);
    if constexpr (kBounded) {
      // The partial sum never exceeds the final one (non-negative terms,
      // monotonic rounding, the same reduction).
      if ((i + 64) % 128 == 0 && i + 64 < dim) {
        const float partial = Sum(_mm512_add_ps(_mm512_add_ps(s0, s1), _mm512_add_ps(s2, s3)));
        if (partial > bound) return partial;
      }
    }
  }
  for (; i + 16 <= dim; i += 16) {
    const __m512 d = _mm512_sub_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i));
    s0 = _mm512_fmadd_ps(d, d, s0);
  }
  if (i < dim) {
    const __m512 d = _mm512_sub_ps(Tail(a, i, dim), Tail(b, i, dim));
    s1 = _mm512_fmadd_ps(d, d, s1);
  }
  return Sum(_mm512_add_ps(_mm512_add_ps(s0, s1), _mm512_add_ps(s2, s3)));
}

float SquaredL2(const float* a, const float* b, size_t dim) { return L2<false>(a, b, dim, 0); }

float SquaredL2Bounded(const float* a, const float* b, size_t dim, float bound) {
  return L2<true>(a, b, dim, bound);
}

float Dot(const float* a, const float* b, size_t dim) {
  __m512 s0 = _mm512_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
  size_t i = 0;
  for (; i + 64 <= dim; i += 64) {
    s0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i), s0);
    s1 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i + 16), _mm512_loadu_ps(b + i + 16), s1);
    s2 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i + 32), _mm512_loadu_ps(b + i + 32), s2);
    s3 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i + 48), _mm512_loadu_ps(b + i + 48), s3);
  }
  for (; i + 16 <= dim; i += 16) {
    s0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i), s0);
  }
  if (i < dim) s1 = _mm512_fmadd_ps(Tail(a, i, dim), Tail(b, i, dim), s1);
  return Sum(_mm512_add_ps(_mm512_add_ps(s0, s1), _mm512_add_ps(s2, s3)));
}

void DotNorms(const float* a, const float* b, size_t dim, float out[3]) {
  __m512 ab0 = _mm512_setzero_ps(), ab1 = ab0, aa0 = ab0, aa1 = ab0, bb0 = ab0, bb1 = ab0;
  size_t i = 0;
  for (; i + 32 <= dim; i += 32) {
    const __m512 x0 = _mm512_loadu_ps(a + i), y0 = _mm512_loadu_ps(b + i);
    const __m512 x1 = _mm512_loadu_ps(a + i + 16), y1 = _mm512_loadu_ps(b + i + 16);
    ab0 = _mm512_fmadd_ps(x0, y0, ab0);
    ab1 = _mm512_fmadd_ps(x1, y1, ab1);
    aa0 = _mm512_fmadd_ps(x0, x0, aa0);
    aa1 = _mm512_fmadd_ps(x1, x1, aa1);
    bb0 = _mm512_fmadd_ps(y0, y0, bb0);
    bb1 = _mm512_fmadd_ps(y1, y1, bb1);
  }
  for (; i < dim; i += 16) {
    const __m512 x = i + 16 <= dim ? _mm512_loadu_ps(a + i) : Tail(a, i, dim);
    const __m512 y = i + 16 <= dim ? _mm512_loadu_ps(b + i) : Tail(b, i, dim);
    ab0 = _mm512_fmadd_ps(x, y, ab0);
    aa0 = _mm512_fmadd_ps(x, x, aa0);
    bb0 = _mm512_fmadd_ps(y, y, bb0);
  }
  out[0] = Sum(_mm512_add_ps(ab0, ab1));
  out[1] = Sum(_mm512_add_ps(aa0, aa1));
  out[2] = Sum(_mm512_add_ps(bb0, bb1));
}

// 8-bit codes widened to 16 bits; madd adds pairs of products into 32-bit
// lanes, which cannot overflow for dim <= 65536.
inline __m512i Widen(const uint8_t* p) {
  return _mm512_cvtepu8_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
}

uint32_t SquaredL2U8(const uint8_t* a, const uint8_t* b, size_t dim) {
  __m512i s0 = _mm512_setzero_si512(), s1 = s0;
  size_t i = 0;
  for (; i + 64 <= dim; i += 64) {
    const __m512i d0 = _mm512_sub_epi16(Widen(a + i), Widen(b + i));
    const __m512i d1 = _mm512_sub_epi16(Widen(a + i + 32), Widen(b + i + 32));
    s0 = _mm512_add_epi32(s0, _mm512_madd_epi16(d0, d0));
    s1 = _mm512_add_epi32(s1, _mm512_madd_epi16(d1, d1));
  }
  for (; i + 32 <= dim; i += 32) {
    const __m512i d = _mm512_sub_epi16(Widen(a + i), Widen(b + i));
    s0 = _mm512_add_epi32(s0, _mm512_madd_epi16(d, d));
  }
  uint32_t sum = Sum(_mm512_add_epi32(s0, s1));
  for (; i < dim; ++i) {
    const int32_t d = int32_t{a[i]} - int32_t{b[i]};
    sum += static_cast<uint32_t>(d * d);
  }
  return sum;
}

uint32_t DotU8(const uint8_t* a, const uint8_t* b, size_t dim) {
  __m512i s0 = _mm512_setzero_si512(), s1 = s0;
  size_t i = 0;
  for (; i + 64 <= dim; i += 64) {
    s0 = _mm512_add_epi32(s0, _mm512_madd_epi16(Widen(a + i), Widen(b + i)));
    s1 = _mm512_add_epi32(s1, _mm512_madd_epi16(Widen(a + i + 32), Widen(b + i + 32)));
  }
  for (; i + 32 <= dim; i += 32) {
    s0 = _mm512_add_epi32(s0, _mm512_madd_epi16(Widen(a + i), Widen(b + i)));
  }
  uint32_t sum = Sum(_mm512_add_epi32(s0, s1));
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

const DistanceKernels kAvx512Kernels = {
    "avx512",    SquaredL2, SquaredL2Bounded, Dot,    DotNorms,
    SquaredL2U8, DotU8,     HnswL2,           HnswIp, HnswL2Bounded,
};

}  // namespace hartonomous::index::internal

#if defined(__clang__)
#pragma clang attribute pop
#else
#pragma GCC pop_options
#endif
