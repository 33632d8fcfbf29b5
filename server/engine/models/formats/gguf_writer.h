// Writes GGUF files (version 3 by default): metadata KVs of any value type,
// tensor infos, padding to general.alignment (default 32) before the data
// section and after each tensor, as ggml's gguf writer lays them out. Used
// to export models whose layers the server quantized to Q8_0 / Q4_0, and to
// build test files.
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "server/engine/models/formats/gguf_value.h"

namespace hartonomous::engine::models {

struct GgufTensorSpec {
  std::string name;
  uint32_t ggml_type = 0;
  std::vector<uint64_t> dims;  // ne[0] (innermost) first
};

struct GgufKvSpec {
  std::string key;
  GgufValue value;
};

struct GgufPlan {
  std::string header;              // through the padding before the data section
  std::vector<uint64_t> offsets;   // per tensor, relative to the data section
  std::vector<uint64_t> lengths;   // per tensor
  std::vector<uint64_t> paddings;  // zero bytes written after each tensor
  uint64_t file_size = 0;
};

// The header and data layout of a file. INVALID_ARGUMENT names the KV or
// tensor: repeated key or name, general.alignment not a u32 power of two,
// unknown ggml type, dims[0] not a multiple of the block size, version not
// 2 or 3, arrays whose count disagrees with their contents.
Result<GgufPlan> PlanGguf(const std::vector<GgufKvSpec>& kvs,
                          const std::vector<GgufTensorSpec>& tensors, uint32_t version = 3);

// The whole file; data[i] is the bytes of tensors[i] (length checked).
Result<std::string> WriteGguf(const std::vector<GgufKvSpec>& kvs,
                              const std::vector<GgufTensorSpec>& tensors,
                              const std::vector<std::string_view>& data, uint32_t version = 3);

}  // namespace hartonomous::engine::models
