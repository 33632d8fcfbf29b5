// The tensor element types of ggml (GGUF tensor infos): id, name, block
// size (elements per block) and bytes per block, as ggml's type_traits
// table defines them. Ids ggml retired (4, 5, 31-33, 36-38) are unknown.
//
// Thread-safety: constant table; pure functions.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

namespace hartonomous::engine::models {

struct GgmlType {
  uint32_t id;
  std::string_view name;  // "Q4_0"
  uint32_t block_size;    // elements per block
  uint32_t type_size;     // bytes per block
};

// The type with this id, or nullptr when ggml defines none.
const GgmlType* FindGgmlType(uint32_t id);
// The type with this name ("Q8_0"), or nullptr.
const GgmlType* FindGgmlTypeByName(std::string_view name);
// Every known type, by id.
const std::vector<GgmlType>& AllGgmlTypes();

inline constexpr uint32_t kGgmlF32 = 0;
inline constexpr uint32_t kGgmlF16 = 1;
inline constexpr uint32_t kGgmlQ4_0 = 2;
inline constexpr uint32_t kGgmlQ8_0 = 8;
inline constexpr uint32_t kGgmlBF16 = 30;

}  // namespace hartonomous::engine::models
