// The common layout of a model file, whatever its format: the tensors it
// holds and an ordered list of segments that tile the whole file exactly.
//
// Segments are verbatim byte ranges of the file: the header (format framing
// and metadata), padding, other bytes (e.g. protobuf framing between ONNX
// initializers) and tensor data. Concatenating the segments' bytes in order
// reproduces the file byte for byte, which is how the server stores a model
// as a header atom plus chunk atoms cut from each tensor's first byte and
// exports it byte-identically.
//
// Streaming: the safetensors and GGUF parsers need only a prefix of the
// file (the header). They return a LayoutScan whose need_bytes asks for a
// longer prefix until the header is complete; after that, the rest of the
// stream is cut at the layout's known offsets. Memory is bounded by the
// header size limit, never by the file size.
//
// Thread-safety: plain values; the functions are pure and safe from any
// thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "server/engine/models/formats/layer_type.h"

namespace hartonomous::engine::models {

enum class ModelFormat { kSafetensors, kGguf, kOnnx };

// "safetensors", "gguf", "onnx".
const char* ModelFormatName(ModelFormat format);

struct TensorInfo {
  std::string name;
  // The format's own dtype name: "BF16" (safetensors), "Q4_0" (GGUF),
  // "FLOAT" (ONNX).
  std::string dtype;
  // Dimensions as the file lists them (GGUF: ne[0], the innermost, first).
  std::vector<uint64_t> shape;
  uint64_t parameter_count = 0;  // product of shape; 1 for rank 0
  // The tensor's bytes in the file: [offset, offset + length). When
  // in_file is false (ONNX values stored in a varint or unpacked field),
  // the values are not one contiguous range of the file and offset/length
  // are 0.
  uint64_t offset = 0;
  uint64_t length = 0;
  bool in_file = true;
  LayerType layer_type = LayerType::kOther;
};

enum class SegmentKind { kHeader, kPadding, kOther, kTensor };

// "header", "padding", "other", "tensor".
const char* SegmentKindName(SegmentKind kind);

struct Segment {
  SegmentKind kind = SegmentKind::kOther;
  uint64_t offset = 0;
  uint64_t length = 0;  // never 0
  int64_t tensor = -1;  // index into ModelLayout::tensors for kTensor, else -1
};

struct ModelLayout {
  ModelFormat format = ModelFormat::kSafetensors;
  // Total file size the segments tile. Before FinishLayout (file size not
  // yet known), the end of the last tensor's data.
  uint64_t file_size = 0;
  // Bytes that may follow the last tensor (GGUF pads the data section to
  // its alignment); 0 for safetensors.
  uint64_t max_trailing_padding = 0;
  // Size of the header prefix the parser read (segments before the first
  // tensor byte may extend past it only for padding).
  uint64_t header_bytes = 0;
  std::vector<TensorInfo> tensors;  // in file order of their data
  std::vector<Segment> segments;    // in file order, tiling [0, file_size)
};

// The parser's answer for a prefix of the file.
struct LayoutScan {
  // > 0: the header is incomplete; call again with a prefix of at least
  // need_bytes bytes (never more than the header limit). layout is empty.
  uint64_t need_bytes = 0;
  ModelLayout layout;
  bool complete() const { return need_bytes == 0; }
};

// Closes a layout parsed without knowing the file size: file_size must be
// at least layout->file_size and exceed it by at most
// max_trailing_padding bytes, which become a trailing padding segment.
// INVALID_ARGUMENT names the rule otherwise ("file: N trailing bytes after
// the last tensor", "file: truncated: ...").
Status FinishLayout(ModelLayout* layout, uint64_t file_size);

// Checks the layout's invariants: segments are non-empty, ordered,
// contiguous from 0 to file_size; every tensor segment points at a tensor
// whose [offset, length) it equals; every in-file tensor with bytes has
// exactly one segment. INTERNAL on violation (a parser bug).
Status ValidateLayout(const ModelLayout& layout);

// The file rebuilt from its segments: the bytes of each segment cut from
// file, concatenated. REQUIRES: file.size() == layout.file_size.
std::string ConcatenateSegments(const ModelLayout& layout, std::string_view file);

// Appends segments tiling [from, to) between two known ranges as one
// segment of kind (nothing when from == to). Used by the parsers.
void AppendGap(std::vector<Segment>* segments, uint64_t from, uint64_t to, SegmentKind kind);

}  // namespace hartonomous::engine::models
