// Key encodings for LMDB tables: big-endian fixed-width integers, so that
// LMDB's bytewise key order equals numeric order (docs/storage_format.md).
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace hartonomous::storage {

inline void AppendBe64(std::string* out, uint64_t v) {
  char buf[8];
  for (int i = 7; i >= 0; --i) {
    buf[i] = static_cast<char>(v & 0xff);
    v >>= 8;
  }
  out->append(buf, 8);
}

inline void AppendBe32(std::string* out, uint32_t v) {
  char buf[4];
  for (int i = 3; i >= 0; --i) {
    buf[i] = static_cast<char>(v & 0xff);
    v >>= 8;
  }
  out->append(buf, 4);
}

inline std::string Be64Key(uint64_t v) {
  std::string out;
  AppendBe64(&out, v);
  return out;
}

// REQUIRES: bytes.size() >= 8
inline uint64_t ReadBe64(std::string_view bytes) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = v << 8 | static_cast<uint8_t>(bytes[i]);
  return v;
}

}  // namespace hartonomous::storage
