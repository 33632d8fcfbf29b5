// Pseudo-random test content, shared by the unit and integration tests.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace hartonomous::testing {

// size pseudo-random bytes (xorshift from seed): content that neither
// compresses nor deduplicates, the same for the same seed.
inline std::string BinaryContent(size_t size, uint32_t seed) {
  std::string s(size, '\0');
  uint32_t x = seed * 2654435761u + 1;
  for (auto& c : s) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    c = static_cast<char>(x & 0xff);
  }
  return s;
}

}  // namespace hartonomous::testing
