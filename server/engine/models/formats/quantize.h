// Storage-free quantization kernels for model layers: weights to float
// (from F32, F16, BF16, F64), quantization to int8 per channel, llama.cpp's
// Q8_0 and Q4_0 block layouts, fp16 and bf16; dequantization; error
// statistics; and the per-group error bound check.
//
// Layouts:
//   int8 per channel: rows x cols int8, scale per row (fp32) = amax / 127,
//     q = round(x / scale) (half away from zero). Symmetric, no zero point.
//   Q8_0: blocks of 32 along a row: fp16 d = amax / 127, then 32 int8
//     q = roundf(x * (1 / d)) -- 34 bytes, as ggml's quantize_row_q8_0_ref.
//   Q4_0: blocks of 32: fp16 d = m / -8 where m is the value of largest
//     magnitude (keeping its sign), then 16 bytes: byte j holds element j in
//     its low nibble and element j + 16 in its high nibble, each
//     q = min(15, (int8)(x * (1 / d) + 8.5)) -- 18 bytes, as ggml's
//     quantize_row_q4_0_ref; dequantized as (q - 8) * d.
//   f16 / bf16: round to nearest even.
//
// Error bound per group (checked by CheckErrorBound), with d the fp32 scale
// and d16 its fp16 rounding, slack = 2^-20 x the group's largest |x|
// (float rounding of x * (1 / d)):
//   int8 per channel: |x - x^| <= d / 2 + slack
//   Q8_0:             |x - x^| <= |d| / 2 + 127 |d - d16| + slack
//   Q4_0:             |x - x^| <= |d| + 8 |d - d16| + slack
//     Q4_0's codes are -8..7 around m / -8, so values of the sign opposite
//     to m and magnitude above 7.5 |d| clamp to code 7: the error reaches a
//     whole step |d| there (the tests measure errors above |d| / 2 on random
//     data); everywhere else it is at most |d| / 2.
//   f16 / bf16:       |x - x^| <= |x| 2^-11 (2^-8 for bf16), at least half
//                     the smallest subnormal.
// The fp16 rounding of the scale is what makes Q8_0 exceed d16 / 2 by up
// to 127 |d - d16| (at most about 6% of d).
//
// Refusals (INVALID_ARGUMENT naming the tensor and the element index): NaN
// or infinite weights; values whose scale (Q8_0, Q4_0) or value (f16, bf16)
// does not fit the 16-bit float, unless saturate is set, in which case they
// are clamped (scale to 65504, values to the largest code) and counted;
// Q8_0 / Q4_0 rows whose length is not a multiple of 32.
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace hartonomous::engine::models {

enum class QuantType { kInt8PerChannel, kQ8_0, kQ4_0, kF16, kBF16 };

// "int8", "q8_0", "q4_0", "f16", "bf16".
const char* QuantTypeName(QuantType type);

inline constexpr uint64_t kQuantBlock = 32;

// The values of a tensor of dtype (any format's name for F32, F16, BF16,
// F64: "F32"/"FLOAT", "F16"/"FLOAT16", "BF16"/"BFLOAT16", "F64"/"DOUBLE";
// and GGUF's "Q8_0" / "Q4_0" blocks, dequantized) as floats. INVALID_ARGUMENT naming the tensor for other dtypes or a byte
// length that is not a whole number of elements.
Result<std::vector<float>> ToFloat(std::string_view tensor, std::string_view dtype,
                                   std::string_view bytes);

struct QuantizeOptions {
  // Clamp values beyond the 16-bit float's range and count them instead of
  // refusing the tensor. Default: false.
  bool saturate = false;
};

struct QuantizedTensor {
  QuantType type = QuantType::kQ8_0;
  uint64_t rows = 0;
  uint64_t cols = 0;
  // int8: rows x cols int8. Q8_0 / Q4_0: the llama.cpp blocks, row by row.
  // f16 / bf16: little-endian 16-bit values.
  std::string data;
  // int8: the fp32 scale of each row. Q8_0 / Q4_0: the fp32 scale d of each
  // block before its fp16 rounding (the stored scale is in data). Empty for
  // f16 / bf16.
  std::vector<float> scales;
  uint64_t saturated = 0;  // values clamped (saturate only)
};

// Quantizes x (rows x cols, row-major).
// REQUIRES: x.size() == rows * cols.
Result<QuantizedTensor> Quantize(std::string_view tensor, std::span<const float> x, uint64_t rows,
                                 uint64_t cols, QuantType type,
                                 const QuantizeOptions& options = {});

// The values q stands for (rows x cols floats).
std::vector<float> Dequantize(const QuantizedTensor& q);

struct ErrorStats {
  double snr_db = 0;  // 10 log10(sum x^2 / sum (x - y)^2); +inf when exact
  double rmse = 0;
  double relative_rmse = 0;  // rmse / rms(x); 0 when x is all zero
  double max_abs_error = 0;
};

// REQUIRES: x.size() == y.size().
ErrorStats MeasureError(std::span<const float> x, std::span<const float> y);

// Checks |x - x^| against the group bound above for every element (y =
// Dequantize(q)). INTERNAL naming the tensor, element and bound on a
// violation (a kernel bug); saturated elements are not checked.
Status CheckErrorBound(std::string_view tensor, std::span<const float> x, std::span<const float> y,
                       const QuantizedTensor& q);

}  // namespace hartonomous::engine::models
