// The 22 element types of the safetensors format and their bit widths, as
// huggingface/safetensors defines them (Dtype in safetensors/src/tensor.rs).
// Sub-byte types (F4: 4 bits, F6_*: 6 bits) are packed: a tensor's byte
// length is elements x bits / 8, which must be a whole number.
//
// Thread-safety: constant tables; pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace hartonomous::engine::models {

enum class SafetensorsDtype {
  kBool,
  kF4,
  kF6_E2M3,
  kF6_E3M2,
  kU8,
  kI8,
  kF8_E5M2,
  kF8_E4M3,
  kF8_E8M0,
  kF8_E4M3Fnuz,
  kF8_E5M2Fnuz,
  kI16,
  kU16,
  kF16,
  kBF16,
  kI32,
  kU32,
  kF32,
  kC64,
  kF64,
  kI64,
  kU64,
};

inline constexpr int kSafetensorsDtypeCount = 22;

// The name written in the header ("F8_E4M3FNUZ").
std::string_view SafetensorsDtypeName(SafetensorsDtype dtype);
// Bits per element: 4, 6, 8, 16, 32 or 64.
int SafetensorsDtypeBits(SafetensorsDtype dtype);
// The dtype named exactly (case-sensitive), or nullopt.
std::optional<SafetensorsDtype> ParseSafetensorsDtype(std::string_view name);
// All dtypes, in the enum's order (for tests and tables).
SafetensorsDtype SafetensorsDtypeAt(int index);

}  // namespace hartonomous::engine::models
