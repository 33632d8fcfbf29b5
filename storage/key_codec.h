// Key encodings for LMDB tables: big-endian fixed-width integers, so that
// LMDB's bytewise key order equals numeric order (docs/storage_format.md).
// Used by the table accessors in storage/tables/, which own their keys.
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <string>

#include "base/big_endian.h"

namespace hartonomous::storage {

using hartonomous::AppendBe32;
using hartonomous::AppendBe64;
using hartonomous::AppendBigEndian;
using hartonomous::ReadBe32;
using hartonomous::ReadBe64;
using hartonomous::ReadBigEndian;

inline std::string Be32Key(uint32_t v) {
  std::string out;
  AppendBe32(&out, v);
  return out;
}

inline std::string Be64Key(uint64_t v) {
  std::string out;
  AppendBe64(&out, v);
  return out;
}

}  // namespace hartonomous::storage
