// Reads the tensors of an ONNX model (a protobuf ModelProto, parsed with
// the onnx.proto that Debian's libonnx-dev ships) from a fully buffered
// file: graph initializers, sparse initializers (values and indices),
// Constant nodes (attribute "value" / "sparse_value") and every subgraph of
// If/Loop/Scan (attributes g / graphs), nested at most max_graph_depth.
//
// Tensor bytes are file segments wherever the file holds them as one
// contiguous little-endian range: raw_data, and packed float_data /
// double_data. A bounded protobuf wire walk finds those ranges (the
// protobuf parse gives values, not offsets). Values in varint fields
// (int32_data, int64_data, uint64_data) are decoded; those tensors have
// in_file = false and their bytes stay inside "other" segments.
//
// Refusals are INVALID_ARGUMENT naming the tensor and the rule: not
// protobuf, no graph, unknown or STRING data_type, negative dims, shape
// overflow, raw_data (or a typed field) of the wrong length for dims x
// type, and external data (data_location EXTERNAL or external_data
// entries) unless the caller supplies those files' bytes by location name
// (or defers them: OnnxOptions::defer_external). A path is never opened.
//
// Memory: the file, plus the protobuf parse of it, plus decoded varint
// values: about three times the file, bounded by max_file_bytes.
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "server/engine/models/formats/model_layout.h"

namespace hartonomous::engine::models {

struct OnnxOptions {
  // Largest file accepted (protobuf's own limit is 2 GiB - 1).
  // Default: 2 GiB - 1.
  uint64_t max_file_bytes = (uint64_t{1} << 31) - 1;
  // Deepest subgraph nesting followed (the main graph is depth 0).
  // Default: 16.
  size_t max_graph_depth = 16;
  // Largest rank of a tensor. Default: 32.
  size_t max_rank = 32;
  // The bytes of external data files, by their "location" as written in the
  // model (streamed by the client with the model). Default: none.
  std::map<std::string, std::string_view, std::less<>> external_files;
  // true: an external tensor whose file is not in external_files is
  // accepted with its range (OnnxTensor::external_*) and no values, for a
  // caller that receives the files after the model (ModelImport). The
  // range's length must still be dims x type when given. Default: false.
  bool defer_external = false;
};

enum class OnnxTensorSource { kInitializer, kSparseValues, kSparseIndices, kConstant };

// "initializer", "sparse_values", "sparse_indices", "constant".
const char* OnnxTensorSourceName(OnnxTensorSource source);

struct OnnxTensor {
  OnnxTensorSource source = OnnxTensorSource::kInitializer;
  int32_t data_type = 0;  // TensorProto.DataType
  size_t graph_depth = 0;
  // Non-empty for external data: the file's location as the model names
  // it, and the tensor's range in it (external_length_given false: the
  // model gives no length, which means "to the end of the file"; the
  // length is then dims x type, and the file must end there).
  std::string external_location;
  uint64_t external_offset = 0;
  uint64_t external_length = 0;
  bool external_length_given = true;
  // The values as little-endian bytes, as numpy's tobytes() gives them,
  // when the file does not hold them contiguously (else empty).
  std::string decoded;
};

struct OnnxModel {
  ModelLayout layout;               // tensors in file order; file_size = file size
  std::vector<OnnxTensor> details;  // parallel to layout.tensors
};

Result<OnnxModel> ParseOnnx(std::string_view file, const OnnxOptions& options = {});

// Values of tensor i: its file range when in_file, else its decoded bytes.
std::string_view OnnxTensorValues(const OnnxModel& model, size_t i, std::string_view file);

// Bytes per element of a TensorProto.DataType for raw_data (0: sub-byte
// INT4/UINT4 (packed two per byte), STRING or unknown). The ONNX name of the
// type ("FLOAT") or "" when unknown.
size_t OnnxElementSize(int32_t data_type);
std::string_view OnnxDataTypeName(int32_t data_type);

}  // namespace hartonomous::engine::models
