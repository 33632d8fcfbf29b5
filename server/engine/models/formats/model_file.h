// One entry point for importing a model file of any supported format:
// detect the format from the first bytes (or the file name), then scan the
// layout with that format's parser. For the format-specific headers
// (safetensors metadata, GGUF KVs, ONNX tensor details) call the format's
// own Scan/Parse function.
//
// safetensors and GGUF stream (need_bytes asks for a longer prefix); ONNX
// is parsed whole, so it needs the file size up front and asks for the
// whole file.
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "base/status.h"
#include "server/engine/models/formats/gguf_reader.h"
#include "server/engine/models/formats/model_layout.h"
#include "server/engine/models/formats/onnx_reader.h"
#include "server/engine/models/formats/safetensors_reader.h"

namespace hartonomous::engine::models {

// Bytes of the file's start that DetectModelFormat looks at.
inline constexpr size_t kModelDetectBytes = 9;

// "GGUF" magic -> GGUF; an 8-byte little-endian length followed by '{' ->
// safetensors; otherwise the file name's extension (.gguf, .safetensors,
// .onnx); otherwise a first byte 0x08 (ModelProto.ir_version, how ONNX
// exporters begin) -> ONNX. nullopt when none matches.
std::optional<ModelFormat> DetectModelFormat(std::string_view prefix,
                                             std::string_view file_name = {});

// "safetensors" / "gguf" / "onnx" as a format, or nullopt.
std::optional<ModelFormat> ParseModelFormatName(std::string_view name);

struct ModelScanOptions {
  SafetensorsOptions safetensors;
  GgufOptions gguf;
  OnnxOptions onnx;
};

// The layout of the file whose first bytes are prefix. ONNX:
// INVALID_ARGUMENT without file_size ("the file size must be known"); else
// need_bytes = file_size until prefix is the whole file.
Result<LayoutScan> ScanModelFile(ModelFormat format, std::string_view prefix,
                                 std::optional<uint64_t> file_size,
                                 const ModelScanOptions& options = {});

}  // namespace hartonomous::engine::models
