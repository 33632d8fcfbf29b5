#include "server/engine/models/formats/safetensors_dtype.h"

#include <array>

namespace hartonomous::engine::models {
namespace {

struct DtypeRow {
  SafetensorsDtype dtype;
  std::string_view name;
  int bits;
};

constexpr std::array<DtypeRow, kSafetensorsDtypeCount> kDtypes = {{
    {SafetensorsDtype::kBool, "BOOL", 8},
    {SafetensorsDtype::kF4, "F4", 4},
    {SafetensorsDtype::kF6_E2M3, "F6_E2M3", 6},
    {SafetensorsDtype::kF6_E3M2, "F6_E3M2", 6},
    {SafetensorsDtype::kU8, "U8", 8},
    {SafetensorsDtype::kI8, "I8", 8},
    {SafetensorsDtype::kF8_E5M2, "F8_E5M2", 8},
    {SafetensorsDtype::kF8_E4M3, "F8_E4M3", 8},
    {SafetensorsDtype::kF8_E8M0, "F8_E8M0", 8},
    {SafetensorsDtype::kF8_E4M3Fnuz, "F8_E4M3FNUZ", 8},
    {SafetensorsDtype::kF8_E5M2Fnuz, "F8_E5M2FNUZ", 8},
    {SafetensorsDtype::kI16, "I16", 16},
    {SafetensorsDtype::kU16, "U16", 16},
    {SafetensorsDtype::kF16, "F16", 16},
    {SafetensorsDtype::kBF16, "BF16", 16},
    {SafetensorsDtype::kI32, "I32", 32},
    {SafetensorsDtype::kU32, "U32", 32},
    {SafetensorsDtype::kF32, "F32", 32},
    {SafetensorsDtype::kC64, "C64", 64},
    {SafetensorsDtype::kF64, "F64", 64},
    {SafetensorsDtype::kI64, "I64", 64},
    {SafetensorsDtype::kU64, "U64", 64},
}};

}  // namespace

std::string_view SafetensorsDtypeName(SafetensorsDtype dtype) {
  return kDtypes[static_cast<int>(dtype)].name;
}

int SafetensorsDtypeBits(SafetensorsDtype dtype) { return kDtypes[static_cast<int>(dtype)].bits; }

std::optional<SafetensorsDtype> ParseSafetensorsDtype(std::string_view name) {
  for (const DtypeRow& row : kDtypes) {
    if (row.name == name) return row.dtype;
  }
  return std::nullopt;
}

SafetensorsDtype SafetensorsDtypeAt(int index) { return kDtypes[index].dtype; }

}  // namespace hartonomous::engine::models
