// Big-endian fixed-width integers: the byte order of table keys (so that
// LMDB's bytewise order is numeric order; storage/key_codec.h) and of other
// self-describing byte strings such as page tokens.
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>

namespace hartonomous {

// Appends the big-endian bytes of an unsigned integer.
template <typename T>
inline void AppendBigEndian(std::string* out, T v) {
  static_assert(std::is_unsigned_v<T>);
  char buf[sizeof(T)];
  for (int i = static_cast<int>(sizeof(T)) - 1; i >= 0; --i) {
    buf[i] = static_cast<char>(v & 0xff);
    v = static_cast<T>(v >> 8);
  }
  out->append(buf, sizeof(T));
}

inline void AppendBe64(std::string* out, uint64_t v) { AppendBigEndian(out, v); }
inline void AppendBe32(std::string* out, uint32_t v) { AppendBigEndian(out, v); }

// REQUIRES: bytes.size() >= sizeof(T)
template <typename T>
inline T ReadBigEndian(std::string_view bytes) {
  T v = 0;
  for (size_t i = 0; i < sizeof(T); ++i)
    v = static_cast<T>(v << 8 | static_cast<uint8_t>(bytes[i]));
  return v;
}

inline uint64_t ReadBe64(std::string_view bytes) { return ReadBigEndian<uint64_t>(bytes); }
inline uint32_t ReadBe32(std::string_view bytes) { return ReadBigEndian<uint32_t>(bytes); }

}  // namespace hartonomous
