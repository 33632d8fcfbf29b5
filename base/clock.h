// The wall clock as the server stores it: microseconds since the Unix epoch
// (created_at_us, updated_at_us and every other *_us field).
//
// Thread-safety: thread-safe.
#pragma once

#include <chrono>
#include <cstdint>

namespace hartonomous {

inline int64_t NowMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace hartonomous
