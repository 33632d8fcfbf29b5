// IEEE half precision (fp16) and bfloat16 conversions, bit-exact with
// ggml's reference conversions: round to nearest even; fp16 overflows to
// infinity; a NaN stays a (quiet) NaN.
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>

namespace hartonomous::engine::models {

inline constexpr float kFp16Max = 65504.0f;

uint16_t FloatToHalf(float f);
float HalfToFloat(uint16_t h);
uint16_t FloatToBfloat16(float f);
float Bfloat16ToFloat(uint16_t b);

}  // namespace hartonomous::engine::models
