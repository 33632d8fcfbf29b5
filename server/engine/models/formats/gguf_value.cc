#include "server/engine/models/formats/gguf_value.h"

#include <cstring>

namespace hartonomous::engine::models {

size_t GgufScalarSize(GgufValueType t) {
  switch (t) {
    case GgufValueType::kUint8:
    case GgufValueType::kInt8:
    case GgufValueType::kBool:
      return 1;
    case GgufValueType::kUint16:
    case GgufValueType::kInt16:
      return 2;
    case GgufValueType::kUint32:
    case GgufValueType::kInt32:
    case GgufValueType::kFloat32:
      return 4;
    case GgufValueType::kUint64:
    case GgufValueType::kInt64:
    case GgufValueType::kFloat64:
      return 8;
    case GgufValueType::kString:
    case GgufValueType::kArray:
      return 0;
  }
  return 0;
}

const char* GgufValueTypeName(GgufValueType t) {
  switch (t) {
    case GgufValueType::kUint8:
      return "u8";
    case GgufValueType::kInt8:
      return "i8";
    case GgufValueType::kUint16:
      return "u16";
    case GgufValueType::kInt16:
      return "i16";
    case GgufValueType::kUint32:
      return "u32";
    case GgufValueType::kInt32:
      return "i32";
    case GgufValueType::kFloat32:
      return "f32";
    case GgufValueType::kBool:
      return "bool";
    case GgufValueType::kString:
      return "string";
    case GgufValueType::kArray:
      return "array";
    case GgufValueType::kUint64:
      return "u64";
    case GgufValueType::kInt64:
      return "i64";
    case GgufValueType::kFloat64:
      return "f64";
  }
  return "unknown";
}

bool IsGgufValueType(uint32_t raw) { return raw <= 12; }

namespace {

uint64_t LoadLe(std::string_view b) {
  uint64_t v = 0;
  for (size_t i = b.size(); i-- > 0;) v = (v << 8) | static_cast<unsigned char>(b[i]);
  return v;
}

bool IsSigned(GgufValueType t) {
  return t == GgufValueType::kInt8 || t == GgufValueType::kInt16 || t == GgufValueType::kInt32 ||
         t == GgufValueType::kInt64;
}

}  // namespace

std::optional<uint64_t> GgufValue::AsUnsigned() const {
  const size_t n = GgufScalarSize(type);
  if (n == 0 || type == GgufValueType::kFloat32 || type == GgufValueType::kFloat64 ||
      bytes.size() != n) {
    return std::nullopt;
  }
  const uint64_t raw = LoadLe(bytes);
  if (IsSigned(type)) {
    const uint64_t sign = uint64_t{1} << (8 * n - 1);
    if (raw & sign) return std::nullopt;
  }
  return raw;
}

std::optional<double> GgufValue::AsDouble() const {
  if (type == GgufValueType::kFloat32 && bytes.size() == 4) {
    float f;
    const uint32_t raw = static_cast<uint32_t>(LoadLe(bytes));
    std::memcpy(&f, &raw, 4);
    return f;
  }
  if (type == GgufValueType::kFloat64 && bytes.size() == 8) {
    double d;
    const uint64_t raw = LoadLe(bytes);
    std::memcpy(&d, &raw, 8);
    return d;
  }
  return std::nullopt;
}

std::string_view GgufValue::StringAt(uint64_t i) const {
  const uint64_t begin = i == 0 ? 0 : string_ends[i - 1];
  return std::string_view(bytes).substr(begin, string_ends[i] - begin);
}

GgufValue GgufValue::Scalar(GgufValueType type, uint64_t bits) {
  GgufValue v;
  v.type = type;
  const size_t n = GgufScalarSize(type);
  v.bytes.resize(n);
  for (size_t i = 0; i < n; ++i) v.bytes[i] = static_cast<char>((bits >> (8 * i)) & 0xff);
  return v;
}

GgufValue GgufValue::Float32(float f) {
  uint32_t raw;
  std::memcpy(&raw, &f, 4);
  return Scalar(GgufValueType::kFloat32, raw);
}

GgufValue GgufValue::Float64(double d) {
  uint64_t raw;
  std::memcpy(&raw, &d, 8);
  return Scalar(GgufValueType::kFloat64, raw);
}

GgufValue GgufValue::String(std::string_view s) {
  GgufValue v;
  v.type = GgufValueType::kString;
  v.bytes = std::string(s);
  return v;
}

GgufValue GgufValue::ScalarArray(GgufValueType element, std::string packed, uint64_t count) {
  GgufValue v;
  v.type = GgufValueType::kArray;
  v.element_type = element;
  v.count = count;
  v.bytes = std::move(packed);
  return v;
}

GgufValue GgufValue::StringArray(const std::vector<std::string>& texts) {
  GgufValue v;
  v.type = GgufValueType::kArray;
  v.element_type = GgufValueType::kString;
  v.count = texts.size();
  for (const std::string& t : texts) {
    v.bytes += t;
    v.string_ends.push_back(v.bytes.size());
  }
  return v;
}

GgufValue GgufValue::ArrayOfArrays(std::vector<GgufValue> arrays) {
  GgufValue v;
  v.type = GgufValueType::kArray;
  v.element_type = GgufValueType::kArray;
  v.count = arrays.size();
  v.items = std::move(arrays);
  return v;
}

}  // namespace hartonomous::engine::models
