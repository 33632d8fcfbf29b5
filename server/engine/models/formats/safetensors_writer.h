// Writes safetensors files: for models the server builds (quantized or
// extracted layers) rather than imports. The header lists "__metadata__"
// first, then the tensors in data order; the JSON is padded with spaces to
// a multiple of 8 bytes, and tensors are ordered by descending element
// width, then name, as the reference serializer does, so every tensor
// starts aligned to its element size.
//
// A file can be produced whole (WriteSafetensors) or as a header followed
// by the tensors' bytes streamed in plan order (PlanSafetensors), which
// never holds more than one tensor in memory.
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"

namespace hartonomous::engine::models {

struct SafetensorsTensorSpec {
  std::string name;
  std::string dtype;  // a safetensors dtype name, e.g. "F32"
  std::vector<uint64_t> shape;
};

struct SafetensorsPlan {
  std::string header;         // the 8-byte length and the padded JSON
  std::vector<size_t> order;  // indices into the specs, in data order
  uint64_t file_size = 0;
};

// The header of a file holding specs, with metadata. INVALID_ARGUMENT
// names the tensor: empty or repeated name, "__metadata__" as a name,
// unknown dtype, shape x dtype not a whole number of bytes.
Result<SafetensorsPlan> PlanSafetensors(
    const std::vector<SafetensorsTensorSpec>& specs,
    const std::vector<std::pair<std::string, std::string>>& metadata);

// The whole file. data[i] holds the bytes of specs[i]; a length that is not
// shape x dtype is INVALID_ARGUMENT naming the tensor.
Result<std::string> WriteSafetensors(
    const std::vector<SafetensorsTensorSpec>& specs, const std::vector<std::string_view>& data,
    const std::vector<std::pair<std::string, std::string>>& metadata);

}  // namespace hartonomous::engine::models
