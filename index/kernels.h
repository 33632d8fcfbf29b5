// Distance kernels, one table per instruction set, chosen once at start from
// the CPU the process runs on: a binary built for baseline x86-64 uses
// AVX-512 or AVX2 where it finds them.
//
// Variants: "avx512" (AVX-512 F/BW/VL with FMA), "avx2" (AVX2 with FMA),
// "baseline" (portable C++; SSE2 on x86-64). The variants agree within
// floating-point rounding (their summation orders differ); the 8-bit kernels
// agree exactly.
//
// Environment: HARTONOMOUS_KERNELS=baseline|avx2|avx512 picks a variant below
// the best one (for comparisons); a name the CPU cannot run, or an unknown
// one, is ignored and the best variant is used.
//
// Thread-safety: the tables are immutable; Kernels() is thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

namespace hartonomous::index {

struct DistanceKernels {
  const char* name;
  // sum (a[i] - b[i])^2.
  float (*squared_l2)(const float* a, const float* b, size_t dim);
  // squared_l2, abandoned once a partial sum exceeds bound: returns exactly
  // squared_l2's value when that is <= bound, and otherwise some value
  // > bound (never more than squared_l2's value).
  float (*squared_l2_bounded)(const float* a, const float* b, size_t dim, float bound);
  // sum a[i] * b[i].
  float (*dot)(const float* a, const float* b, size_t dim);
  // Cosine's three sums in one pass: out[0] = a.b, out[1] = a.a, out[2] = b.b.
  void (*dot_norms)(const float* a, const float* b, size_t dim, float out[3]);
  // 8-bit codes (scalar quantization): exact integer sums, dim <= 65536.
  uint32_t (*squared_l2_u8)(const uint8_t* a, const uint8_t* b, size_t dim);
  uint32_t (*dot_u8)(const uint8_t* a, const uint8_t* b, size_t dim);
  // hnswlib's DISTFUNC signature, param pointing at the size_t dimension:
  // squared L2, and 1 - dot (inner product and cosine).
  float (*hnsw_l2)(const void* a, const void* b, const void* param);
  float (*hnsw_ip)(const void* a, const void* b, const void* param);
  // hnsw_l2 abandoned past bound, as squared_l2_bounded.
  float (*hnsw_l2_bounded)(const void* a, const void* b, const void* param, float bound);
};

// The table in use (chosen at the first call).
const DistanceKernels& Kernels();
// Every variant this CPU can run, best first; baseline is always last.
std::vector<const DistanceKernels*> SupportedKernels();
// The supported variant of that name, or nullptr.
const DistanceKernels* SupportedKernel(std::string_view name);

}  // namespace hartonomous::index
