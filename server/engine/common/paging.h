// Paging for every list method (AIP-158): page_size 0 means the default,
// larger than the maximum is capped, and a page may hold fewer items when
// the response budget ends it (server/engine/common/response_budget.h).
// Page tokens: server/engine/common/page_token.h.
//
// Thread-safety: constants and a pure function.
#pragma once

#include <algorithm>
#include <cstdint>

namespace hartonomous::engine {

inline constexpr int kDefaultPageSize = 50;
inline constexpr int kMaxPageSize = 1000;

// The page size a list method uses for a requested page_size.
// REQUIRES: page_size >= 0 (negative sizes are refused by validation).
inline int EffectivePageSize(int32_t page_size) {
  if (page_size == 0) return kDefaultPageSize;
  return std::min<int>(page_size, kMaxPageSize);
}

}  // namespace hartonomous::engine
