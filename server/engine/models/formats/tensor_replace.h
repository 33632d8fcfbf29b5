// Rebuilds a model file with the bytes of some tensors replaced by new
// bytes of the same length -- e.g. weights quantized and dequantized back
// to their dtype, so a quantized model can be exported as its original
// format and run. Every other byte is kept: framing, metadata, offsets and
// protobuf lengths stay valid because no length changes. Works for any
// layout (safetensors, GGUF, ONNX tensors whose values are in the file).
//
// Thread-safety: pure function.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "server/engine/models/formats/model_layout.h"

namespace hartonomous::engine::models {

struct TensorReplacement {
  size_t tensor = 0;       // index into layout.tensors
  std::string_view bytes;  // the new data, exactly the tensor's length
};

// The file with the replacements applied. INVALID_ARGUMENT naming the
// tensor: index out of range, replaced twice, values not one range of the
// file (in_file false), or new bytes of another length.
// REQUIRES: file.size() == layout.file_size and ValidateLayout(layout).ok().
Result<std::string> ReplaceTensorData(const ModelLayout& layout, std::string_view file,
                                      const std::vector<TensorReplacement>& replacements);

}  // namespace hartonomous::engine::models
