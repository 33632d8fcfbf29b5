// A GGUF metadata value: one of the 13 value types of the format (u8 ..
// i64, f32, f64, bool, string, array), arrays possibly nested. Stored
// compactly: scalars and arrays of scalars as their little-endian bytes,
// arrays of strings as one concatenated text with end offsets, so memory
// stays proportional to the header's bytes.
//
// Thread-safety: a value type.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace hartonomous::engine::models {

enum class GgufValueType : uint32_t {
  kUint8 = 0,
  kInt8 = 1,
  kUint16 = 2,
  kInt16 = 3,
  kUint32 = 4,
  kInt32 = 5,
  kFloat32 = 6,
  kBool = 7,
  kString = 8,
  kArray = 9,
  kUint64 = 10,
  kInt64 = 11,
  kFloat64 = 12,
};

// Bytes of one scalar of type t (0 for string and array).
size_t GgufScalarSize(GgufValueType t);
// "u8", "i8", ..., "string", "array".
const char* GgufValueTypeName(GgufValueType t);
bool IsGgufValueType(uint32_t raw);

struct GgufValue {
  GgufValueType type = GgufValueType::kUint8;
  // Scalar: its little-endian bytes. String: the text. Array of scalars:
  // the packed elements. Array of strings: the texts concatenated.
  std::string bytes;
  // Arrays only.
  GgufValueType element_type = GgufValueType::kUint8;
  uint64_t count = 0;
  std::vector<uint64_t> string_ends;  // array of strings: end of text i in bytes
  std::vector<GgufValue> items;       // array of arrays

  bool operator==(const GgufValue&) const = default;

  // Scalars of an integer or bool type as an unsigned / signed value;
  // nullopt for other types or a negative value asked as unsigned.
  std::optional<uint64_t> AsUnsigned() const;
  std::optional<double> AsDouble() const;  // f32 / f64
  // Element i of an array of strings. REQUIRES: i < count.
  std::string_view StringAt(uint64_t i) const;

  static GgufValue Scalar(GgufValueType type, uint64_t bits);  // low bytes of bits
  static GgufValue Float32(float v);
  static GgufValue Float64(double v);
  static GgufValue String(std::string_view s);
  static GgufValue ScalarArray(GgufValueType element, std::string packed, uint64_t count);
  static GgufValue StringArray(const std::vector<std::string>& texts);
  static GgufValue ArrayOfArrays(std::vector<GgufValue> arrays);
};

}  // namespace hartonomous::engine::models
